"""What every stage shares: the parsed message, errors, settings, the rules schema, client accounts and the store.

The bottom layer: it imports nothing from classifiers/, responders/ or inbox/ (import-linter checks it).
"""
