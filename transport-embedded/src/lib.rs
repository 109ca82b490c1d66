//! tenace-embedded (work in progress).
