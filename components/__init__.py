"""The four building blocks of the stack, each a typed ComponentResource chained through outputs."""
