"""CLAPSep in PyTorch: query encoders, separation network, conversion and training."""
