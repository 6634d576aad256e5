"""The `liaison` subcommands, one module per command group; each has `register(commands)`.

In `liaison --help` order.
"""

from inbox.commands import accounts, auth, classify, learning, model, rules, running, setup, summary

GROUPS = (setup, running, classify, model, rules, summary, auth, accounts, learning)
