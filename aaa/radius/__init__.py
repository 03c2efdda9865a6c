"""The RADIUS worker and the wire: codec, crypto, sockets, the request loop."""
