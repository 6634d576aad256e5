"""Route and respond: decide what to do with a message, and do it exactly once."""

# The shipped routing conditions and actions register themselves with the rules schema on import.
from responders import actions, conditions  # noqa: F401
