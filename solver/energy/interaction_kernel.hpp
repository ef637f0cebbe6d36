#pragma once
#include "solver/layer_guard.hpp"
/// Interaction kernels W of the energy ½∬W(x−y)q(x)q(y) (numerics.md "Interaction W*q"): the named
/// radial kernels, their parameters, and the cell-averaged values W_m the discrete convolution uses.
/// Every kernel is radial, W(x) = χ w(|x|), so W_m depends on |m_k| only and is tabulated for
/// m_k = 0..n_k−1 per axis (the convolution reads W_{i−j} as W_{|i−j|}).
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "grids/grid.hpp"

namespace wgflow {

struct InteractionSpec {
  enum class Kind { none, newtonian, gaussian, morse, power, attractive_repulsive, expression };
  Kind kind = Kind::none;
  double chi = 1.0;    ///< strength: W = χ w
  double sigma = 1.0;  ///< gaussian: w = −(2πσ²)^{−d/2} exp(−r²/(2σ²))
  double ca = 1.0, la = 2.0, cr = 1.0, lr = 0.5;  ///< morse: w = −C_a e^{−r/l_a} + C_r e^{−r/l_r}
  double a = 2.0;      ///< power: w = r^a/a
  std::function<double(double r)> function;  ///< expression: w(r), a smooth kernel (evaluated serially)
};

/// Parses "--kernel NAME[:key=value,...]" (names: newtonian, gaussian, morse, power,
/// attractive-repulsive; "expr:FORMULA" is resolved by the caller, who parses the formula).
/// Throws std::invalid_argument with a one-line message naming --kernel and the allowed values.
InteractionSpec parse_kernel(const std::string& text, int dim);
std::string to_string(InteractionSpec::Kind kind);

/// w(r) (without χ) for the named kernels; Newtonian in `dim` dimensions:
/// 1D r/2, 2D (1/2π) log r, 3D −1/(4π r) (the attractive fundamental solution of the Laplacian).
double kernel_value(const InteractionSpec& spec, double r, int dim);

/// χ × the cell average of w over cell m (centred at m·h) for m_k = 0..n_k−1, x fastest:
/// tensor Gauss–Legendre on each cell (3 points per axis beyond 16 cells from the origin, 4 within),
/// 4^d sub-cells of 8 points per axis within 4 cells, and for m = 0, where a singular kernel has its
/// singularity at the centre, geometric refinement towards the centre (40 levels).
/// n_k is the global cell count (grid.global_shape).
template <int Dim>
std::vector<double> cell_averaged_kernel(const InteractionSpec& spec, const UniformGrid<Dim>& grid);
/// The same table restricted to m_{Dim−1} (the slowest axis) in [first, last): what one rank of a
/// distributed convolution needs for its slab (solver/energy/distributed_convolution.hpp), each
/// entry the same number as in the whole table.
template <int Dim>
std::vector<double> cell_averaged_kernel(const InteractionSpec& spec, const UniformGrid<Dim>& grid, int first, int last);

}  // namespace wgflow
