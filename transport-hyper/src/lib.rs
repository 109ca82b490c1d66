//! tenace-hyper (work in progress).
