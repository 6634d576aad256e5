"""Route and respond: decide what to do with a message, and do it exactly once."""
