"""Pure domain types and rules: no IO, no imports from the layers above."""
