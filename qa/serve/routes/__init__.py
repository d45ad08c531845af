"""One router per resource; each takes what it needs from the injected `ServeContext`."""
