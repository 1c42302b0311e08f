"""Pure image operations: bytes or PIL images in, bytes out. No ORM, no storage."""
