"""Jobs here run in-process (the actor's function called directly) on the test-only `isolated`
kind, whose queue the shared e2e worker never consumes, so no other process takes them."""
