"""Image units of the network, without PyTorch: the data pipeline (data.py) needs only these and NumPy.

Network units: the brain-windowed [0, 1] image mapped linearly to [-1, 1], as the engine feeds it
(src/main/core/inpaint/network.ts).
"""
WINDOWED_RANGE = (0.0, 1.0)
NETWORK_RANGE = (-1.0, 1.0)


def to_network(windowed):
    w0, w1 = WINDOWED_RANGE
    n0, n1 = NETWORK_RANGE
    return n0 + (windowed - w0) * (n1 - n0) / (w1 - w0)
