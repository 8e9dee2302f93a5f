//! Synthetic directory pairs with ground truth, for demos, benchmarks and accuracy measurement.
