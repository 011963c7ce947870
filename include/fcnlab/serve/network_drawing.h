#pragma once
// The layer graph of a network as a picture (DIGITS' "Visualize"), laid out
// by Graphviz's dot: `fcnlab network NAME --draw net.svg` and the
// dashboard's network page.

#include <fcnlab/models/net_spec.h>

#include <cstdint>
#include <string>
#include <utility>

namespace fcnlab {
namespace serve {

/// `spec` at a height x width input as a Graphviz graph: one box per layer
/// (name, type, output shape C x H x W, parameters, a Crop's derived
/// offsets), edges along the blobs, the input at the top. Throws
/// c10::ValueError when the network does not fit that size.
std::string network_dot(
    const models::NetSpec& spec,
    int64_t height,
    int64_t width);

/// Lays out and renders a Graphviz graph as "svg" or "png". Throws
/// c10::Error for a graph Graphviz does not read or a format it cannot
/// write.
std::string render_graph(const std::string& dot, const std::string& format);

/// Draws `spec` into `path`, its format from the extension (.svg, .png),
/// atomically, at height x width (0: the network's own size, or 500x500).
/// Returns the height and width drawn at.
std::pair<int64_t, int64_t> draw_network(
    const models::NetSpec& spec,
    const std::string& path,
    int64_t height = 0,
    int64_t width = 0);

} // namespace serve
} // namespace fcnlab
