"""An Op's life: start, complete, its owner, `kitty-ops run`, the post-completion hook."""
