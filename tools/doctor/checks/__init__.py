"""The six links, in the order a token flows; each module's `check(context)` returns that link's findings."""
