#pragma once
/// Where the intermediate stages of a blocked step live (grids/wavefront.hpp): instead of a full grid
/// array per stage, each band keeps per intermediate stage s a few slices of the padded layout
/// ("blocks": a row with its x-ghosts in 2D, a plane with its ghost rows in 3D):
///   - bottom: the first 2·reach slices of the band's phase-1 range of stage s, which the border
///     triangles below the band read after phase 1;
///   - ring: the last 2·reach + 1 slices written after those (all that stage s + 1 reads in phase 1;
///     after phase 1 it holds the band's top 2·reach slices, which the triangles above read);
///   - region: the slices of stage s that phase 2 computes around the band's top border.
/// Then a step streams qⁿ in and the new state out, and holds one stage array instead of S − 1.
/// A block is addressed like the field: cell (i, j) of slice k is block[c − (k + G)·stride] for its
/// linear index c, so a row kernel writes it through a shifted base pointer (out_base).
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "grids/halo.hpp"
#include "grids/wavefront.hpp"

namespace wgflow {

template <int Dim>
class StageStores {
 public:
  StageStores() = default;
  StageStores(const FieldLayout<Dim>& L, const UniformGrid<Dim>& grid, const WavefrontSchedule<Dim>& schedule,
              int max_bands)
      : m_layout(L), m_nb(grid), m_schedule(schedule), m_bands(max_bands) {
    const int S = schedule.stages(), h = schedule.reach();
    m_block = static_cast<std::size_t>(L.stride[Dim - 1]);
    int planes = 0;
    for (int s = 0; s + 1 < S; ++s) {
      m_stage_first[static_cast<std::size_t>(s)] = planes;
      planes += 4 * h + 1 + 2 * s * h;  // bottom, ring, region
    }
    m_per_band = planes;
    m_data.assign(static_cast<std::size_t>(max_bands) * static_cast<std::size_t>(planes) * m_block, 0.0);
  }
  /// Whether there are stores for `bands` bands.
  bool fits(int bands) const { return bands <= m_bands; }
  /// Slices held in all (each the size of one slice of the padded field).
  int slices() const { return m_bands * m_per_band; }

  /// The block of stage s (< stages − 1) for the slice at unwrapped index K, as seen from a slice
  /// call at `place` (K is the slice being computed there or, when reading, one of its neighbours).
  double* block(int s, int K, const WavefrontPlace& place) {
    const int n = m_layout.shape[Dim - 1], h = m_schedule.reach();
    if (!place.border) return band_block(place.band, place.bands, s, mirror(K));  // phase 1: own band
    const int B = place.k1;
    if (s >= 1 && K >= B - s * h && K < B + s * h) return slot(place.band, s, 4 * h + 1 + (K - (B - s * h)));
    if (K < B) return band_block(place.band, place.bands, s, K);
    return band_block((place.band + 1) % place.bands, place.bands, s, K >= n ? K - n : K);
  }

  /// Pointer p with p[c] = block[c − (k + G)·stride]: a row kernel's output base for slice k.
  double* out_base(double* block, int k) const {
    return block - static_cast<std::ptrdiff_t>(k + G) * m_layout.stride[Dim - 1];
  }
  /// Cell 0 of row j (3D; 0 in 2D) of a block, j ∈ [−G, ny + G).
  const double* row(const double* block, int j) const {
    return block + (Dim == 3 ? static_cast<std::ptrdiff_t>(j + G) * m_layout.stride[Dim > 1 ? 1 : 0] : 0) + G;
  }

  /// After every row of a block is written: its x-ghosts and (3D) its y-ghost rows, the values
  /// fill_ghosts gives the same cells of a field (corners, which no kernel reads, are left).
  void fill_ghosts(double* block) const {
    const int nx = m_layout.shape[0], rows = Dim == 3 ? m_layout.shape[Dim > 1 ? 1 : 0] : 1;
    for (int j = 0; j < rows; ++j) {
      double* r = const_cast<double*>(row(block, j));
      for (int g = 1; g <= G; ++g) {
        r[-g] = r[m_nb.ghost_source(0, 0, g)];
        r[nx - 1 + g] = r[m_nb.ghost_source(0, 1, g)];
      }
    }
    if constexpr (Dim == 3) {
      const auto bytes = static_cast<std::size_t>(nx) * sizeof(double);
      for (int g = 1; g <= G; ++g) {
        std::memcpy(const_cast<double*>(row(block, -g)), row(block, m_nb.ghost_source(1, 0, g)), bytes);
        std::memcpy(const_cast<double*>(row(block, rows - 1 + g)), row(block, m_nb.ghost_source(1, 1, g)), bytes);
      }
    }
  }

 private:
  static constexpr int G = FieldLayout<Dim>::ghosts;

  /// The slice a neighbour index across a wall mirrors (or, periodic, wraps to).
  int mirror(int K) const {
    const int n = m_layout.shape[Dim - 1];
    if (K >= 0 && K < n) return K;
    if (m_schedule.walls()) return K < 0 ? -K - 1 : 2 * n - K - 1;
    return ((K % n) + n) % n;
  }
  /// Stage s of slice k in band t's phase-1 range: bottom slots, then the ring.
  double* band_block(int t, int nt, int s, int k) {
    const int h = m_schedule.reach();
    int lo, hi;
    m_schedule.stage_range(t, nt, s, lo, hi);
    const int i = k - lo;
    return slot(t, s, i < 2 * h ? i : 2 * h + (i - 2 * h) % (2 * h + 1));
  }
  double* slot(int t, int s, int i) {
    const std::size_t plane =
        static_cast<std::size_t>(t * m_per_band + m_stage_first[static_cast<std::size_t>(s)] + i);
    return m_data.data() + plane * m_block;
  }

  FieldLayout<Dim> m_layout;
  Neighbours<Dim> m_nb;
  WavefrontSchedule<Dim> m_schedule;
  int m_bands = 0, m_per_band = 0;
  std::array<int, 3> m_stage_first{};
  std::size_t m_block = 0;
  std::vector<double> m_data;
};

}  // namespace wgflow
