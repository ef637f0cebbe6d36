#pragma once
#include "cli/layer_guard.hpp"
/// --case mean-field-network: the network's output f_ρ(x_j) in every snapshot, and the data as root
/// attributes of the output (/data_x, /data_y), so that a plot can show the fit over time.
#include <memory>
#include <vector>

#include "io/snapshot_writer.hpp"
#include "solver/energy/network.hpp"
#include "solver/snapshot_arrays.hpp"

namespace wgflow {

/// Writes /steps/NNNNNN/network_output: f_ρ(x_j) = h^d Σ_c σ̂(θ_c; x_j) q_c, shape {n}.
template <int Dim>
class NetworkOutputSource final : public SnapshotArraySource<Dim> {
 public:
  explicit NetworkOutputSource(std::shared_ptr<const NetworkKernel<Dim>> network) : m_network(std::move(network)) {}
  void append_snapshot_arrays(const Field<Dim>& q, std::vector<SnapshotArray>& out) const override {
    const std::vector<double>& f = m_network->network_output(q);
    out.push_back({"network_output", {f.size()}, f});
  }

 private:
  std::shared_ptr<const NetworkKernel<Dim>> m_network;
};

/// data_x and data_y as root arrays of the output.
inline std::vector<RootArray> network_root_arrays(const NetworkSpec& spec) {
  return {{"data_x", spec.x}, {"data_y", spec.y}};
}

}  // namespace wgflow
