"""Training CLAPSep: objectives (plain, NIT, bi-modal, semi-supervised), the loop and
`clapsep train`.

Training imports the model, never the reverse; export and the host never import this.
"""
