#pragma once

namespace fcnlab {

/// Keeps memory that tensors free in the process for the next tensors,
/// instead of handing large blocks back to the system. glibc serves every
/// allocation over 32 MB (fc6's 151 MB weight gradient, VGG16's first
/// activations) from fresh pages that fault in on first touch, which takes
/// longer than the arithmetic that fills them: reusing them makes FCN-8s
/// inference and FCN-Alexnet training about twice as fast. The resident
/// memory stays near the peak in exchange. Process-wide; the CLI calls it at
/// start. Returns false where the C library offers no such setting.
bool reuse_freed_memory();

} // namespace fcnlab
