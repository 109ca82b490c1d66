//! tenace-examples: runnable programs (see examples/).
