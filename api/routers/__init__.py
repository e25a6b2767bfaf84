"""One router per concern; each endpoint parses, calls one library function, serializes."""
