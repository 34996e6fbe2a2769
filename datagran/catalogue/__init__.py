"""The operator catalogue endpoint: every registered operator, as the canvas lists it."""
