/// wgflow_bench: times the explicit step kernels through the library's own classes (SgOperator or
/// UpwindOperator behind ExplicitRk) on 1D/2D/3D grids for a list of thread counts, next to a STREAM
/// triad measured by the same program with the same threads. Writes CSV and JSON; docs/benchmarks.md
/// states the bytes-per-update model that turns cell-updates/s into GB/s and a % of the STREAM ceiling.
///
///   wgflow_bench [--quick] [--threads 1,2] [--kernels sg-heat,sg-fp,porous] [--dims 1,2,3]
///                [--sizes-1d N,...] [--sizes-2d N,...] [--sizes-3d N,...] [--repeats R]
///                [--min-time S] [--stream-n N] [--csv PATH] [--json PATH] [--git HASH]
///   wgflow_bench --validate PATH.csv      (checks a CSV written by this program; exit 0 if valid)
///
/// Run with OMP_PROC_BIND=close OMP_PLACES=cores (scripts/bench.sh does); the values are recorded.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "benchmarks/bench_initial_state.hpp"
#include "grids/cell_loop.hpp"
#include "grids/field.hpp"
#include "solver/energy/free_energy.hpp"
#include "solver/spatial_operator.hpp"
#include "solver/steppers/explicit_rk.hpp"

// ---------------------------------------------------------------------------------------------
// Heap accounting: every operator new/delete of the process goes through here, so the benchmark
// can state the allocations per time step (must be 0) and the peak heap of a case in grid arrays.
// ---------------------------------------------------------------------------------------------
namespace heap {
std::atomic<long> allocations{0};
std::atomic<std::size_t> live{0};
std::atomic<std::size_t> peak{0};
constexpr std::size_t header = alignof(std::max_align_t);

[[gnu::noinline]] void* allocate(std::size_t n) {
  void* raw = std::malloc(n + header);
  if (raw == nullptr) return nullptr;
  *static_cast<std::size_t*>(raw) = n;
  allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t now = live.fetch_add(n, std::memory_order_relaxed) + n;
  std::size_t p = peak.load(std::memory_order_relaxed);
  while (now > p && !peak.compare_exchange_weak(p, now, std::memory_order_relaxed)) {
  }
  return static_cast<char*>(raw) + header;
}
[[gnu::noinline]] void release(void* ptr) {
  if (ptr == nullptr) return;
  void* raw = static_cast<char*>(ptr) - header;
  live.fetch_sub(*static_cast<std::size_t*>(raw), std::memory_order_relaxed);
  std::free(raw);
}
void reset_peak() { peak.store(live.load()); }
}  // namespace heap

void* operator new(std::size_t n) {
  if (void* p = heap::allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return heap::allocate(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return heap::allocate(n); }
void operator delete(void* p) noexcept { heap::release(p); }
void operator delete[](void* p) noexcept { heap::release(p); }
void operator delete(void* p, std::size_t) noexcept { heap::release(p); }
void operator delete[](void* p, std::size_t) noexcept { heap::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { heap::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { heap::release(p); }

namespace {

using namespace wgflow;

#ifndef WGFLOW_BENCH_FLAGS
#define WGFLOW_BENCH_FLAGS "unknown"
#endif
#ifndef WGFLOW_BENCH_BUILD_TYPE
#define WGFLOW_BENCH_BUILD_TYPE "unknown"
#endif

enum class Kernel { sg_heat, sg_fp, porous };

std::string to_string(Kernel k) {
  switch (k) {
    case Kernel::sg_heat: return "sg-heat";
    case Kernel::sg_fp: return "sg-fp";
    case Kernel::porous: return "porous";
  }
  return "?";
}

Kernel parse_kernel(const std::string& s) {
  if (s == "sg-heat") return Kernel::sg_heat;
  if (s == "sg-fp") return Kernel::sg_fp;
  if (s == "porous") return Kernel::porous;
  throw std::invalid_argument("--kernels: unknown kernel '" + s + "' (allowed: sg-heat, sg-fp, porous)");
}

/// Bytes-per-update model (docs/benchmarks.md "Byte model"): grid arrays streamed per SSP-RK3 step,
/// counted like STREAM (8 bytes per array read or written once; neighbours, ghosts and small
/// coefficient tables that stay in cache are free; an array read twice in one pass counts once).
struct ByteModel {
  double arrays_per_step;  ///< × 8 bytes × cells = bytes per step
  std::string formula;     ///< how the arrays add up, for the CSV/JSON
};

ByteModel byte_model(Kernel k, int dim, bool blocked) {
  if (blocked) {
    // Temporal blocking (grids/wavefront.hpp): the stages run in one traversal, so qⁿ, V and s_d are
    // read once (later stages find their rows in cache). SG keeps the intermediate stages in small
    // per-thread slice stores (grids/stage_stores.hpp) and writes only the new state; upwind writes
    // both stage buffers once (stage 3 overwrites stage 1's rows while they are cached) and still
    // makes the read-only prepare pass over qⁿ that sets Δt.
    switch (k) {
      case Kernel::sg_heat: return {2.0, "blocked: q+out=2"};
      case Kernel::sg_fp: return {3.0 + dim, "blocked: q+V+s_d+out=3+d = " + std::to_string(3 + dim)};
      case Kernel::porous: return {4.0, "blocked: prepare(q)=1; q+buf0+buf1=3; total 4"};
    }
  }
  // Stage 1 of SSP-RK3 has base = in = qⁿ (one stream); stages 2 and 3 read in and base, write out.
  // prepare() fills ghost layers only (SG) or makes one read-only pass over q (upwind, porous m = 2).
  switch (k) {
    case Kernel::sg_heat:
      // V constant: the constant-coefficient Laplacian, no per-face arrays.
      return {8.0, "stage1 q+out=2; stage2,3 in+base+out=3+3; total 8"};
    case Kernel::sg_fp:
      // Per face only s = D B(|Pe|)/dx^2 (dim arrays) plus V, from which c+ and c- are rebuilt.
      return {11.0 + 3.0 * dim, "stage1 q+V+s_d+out=3+d; stage2,3 in+base+V+s_d+out=4+d each; total 11+3d = " +
                                    std::to_string(11 + 3 * dim)};
    case Kernel::porous:
      // xi = 2q recomputed in both passes (never stored); V = 0 is not read.
      return {11.0, "3 prepares x q=3; stage1 q+out=2; stage2,3 in+base+out=3+3; total 11"};
  }
  return {0.0, ""};
}

// ---------------------------------------------------------------------------------------------
// Machine and build facts
// ---------------------------------------------------------------------------------------------
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      std::string s = line.substr(colon + 1);
      s.erase(0, s.find_first_not_of(" \t"));
      return s;
    }
  return "unknown";
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = -1.0;
  in >> one;
  return one;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " __VERSION__;
#else
  return "unknown";
#endif
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// ---------------------------------------------------------------------------------------------
// STREAM triad a = b + s·c with the same static schedule and thread count as the kernels.
// ---------------------------------------------------------------------------------------------
struct StreamResult {
  int threads;
  std::size_t n;
  double gbs_best, gbs_median;
};

StreamResult stream_triad(int threads, std::size_t n, int repeats) {
  omp_set_num_threads(threads);
  std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
  double* A = a.get();
  double* B = b.get();
  double* C = c.get();
  const auto N = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t i = 0; i < N; ++i) {  // first touch by the thread that streams it
    A[i] = 0.0;
    B[i] = 1.0;
    C[i] = 2.0;
  }
  const double s = 3.0;
  std::vector<double> times;
  for (int r = 0; r < repeats + 2; ++r) {
    const double t0 = omp_get_wtime();
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t i = 0; i < N; ++i) A[i] = B[i] + s * C[i];
    const double t1 = omp_get_wtime();
    if (r >= 2) times.push_back(t1 - t0);  // two warm-ups
  }
  volatile double sink = A[n / 2];
  (void)sink;
  const double bytes = 24.0 * static_cast<double>(n);
  return {threads, n, bytes / *std::min_element(times.begin(), times.end()) * 1e-9, bytes / median(times) * 1e-9};
}

// ---------------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------------

/// Forwards to the real operator and accumulates the time spent in prepare() and euler_stage().
template <int Dim>
class TimedOperator final : public SpatialOperator<Dim> {
 public:
  explicit TimedOperator(SpatialOperator<Dim>& op) : m_op(op) {}
  std::string name() const override { return m_op.name(); }
  double prepare(Field<Dim>& in) override {
    const double t0 = omp_get_wtime();
    const double limit = m_op.prepare(in);
    prepare_seconds += omp_get_wtime() - t0;
    return limit;
  }
  bool enable_in_place_stages() override { return m_op.enable_in_place_stages(); }
  double prepare_stage(Field<Dim>& in) override {
    const double t0 = omp_get_wtime();
    const double limit = m_op.prepare_stage(in);
    prepare_seconds += omp_get_wtime() - t0;
    return limit;
  }
  void euler_stage(Field<Dim>& out, const Field<Dim>& in, double dt, double a, const Field<Dim>& base,
                   double b) const override {
    const double t0 = omp_get_wtime();
    m_op.euler_stage(out, in, dt, a, base, b);
    stage_seconds += omp_get_wtime() - t0;
  }
  bool enable_blocked_stages(int stages, bool stage_arrays) override {
    return m_op.enable_blocked_stages(stages, stage_arrays);
  }
  bool run_blocked_stages(BlockedStages<Dim>& step) override {  // all stages and their limits: stage time
    const double t0 = omp_get_wtime();
    const bool ran = m_op.run_blocked_stages(step);
    stage_seconds += omp_get_wtime() - t0;
    return ran;
  }
  double prepare_seconds = 0.0;
  mutable double stage_seconds = 0.0;

 private:
  SpatialOperator<Dim>& m_op;
};

struct Options {
  bool quick = false;
  std::vector<int> threads;
  std::vector<Kernel> kernels{Kernel::sg_heat, Kernel::sg_fp, Kernel::porous};
  std::vector<int> dims{1, 2, 3};
  std::vector<int> sizes[3] = {{65536, 1048576, 16777216}, {256, 512, 1024, 2048}, {32, 64, 128, 256}};
  int repeats = 5;
  double min_time = 0.2;  ///< seconds per repeat (whole steps, at least one)
  std::size_t stream_n = std::size_t{1} << 25;
  std::string csv = "bench.csv", json = "bench.json", git = WGFLOW_GIT_HASH;
};

struct Row {
  Kernel kernel;
  int dim, n;
  std::size_t cells;
  int threads, stages, repeats;
  long steps_per_repeat;
  double t_min, t_median, prepare_share;
  double bytes_per_cell;
  std::string model;
  double stream_gbs;
  double speedup = std::nan(""), efficiency = std::nan("");
  double allocs_per_step, peak_arrays, load;
  double cpu_util;  ///< process CPU time / (wall time × threads) over the repeats: < ~0.95 means disturbed

  double rate_best() const { return static_cast<double>(cells) / t_min; }
  double rate_median() const { return static_cast<double>(cells) / t_median; }
  double gbs_best() const { return rate_best() * bytes_per_cell * 1e-9; }
  double gbs_median() const { return rate_median() * bytes_per_cell * 1e-9; }
  double ceiling() const { return stream_gbs * 1e9 / bytes_per_cell; }
  double pct() const { return 100.0 * rate_best() / ceiling(); }
};

template <int Dim>
void run_case(const Options& opt, Kernel kernel, int n, const std::vector<StreamResult>& stream,
              std::vector<Row>& rows) {
  const std::size_t base_live = heap::live.load();
  heap::reset_peak();
  const BenchProblem problem = bench_problem(kernel == Kernel::porous, kernel == Kernel::sg_fp);
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, problem.lower, problem.upper, Boundary::no_flux);
  Field<Dim> q = bench_initial_state(grid, kernel == Kernel::porous);
  FreeEnergy<Dim> energy(grid, problem.internal, problem.potential);
  std::unique_ptr<SpatialOperator<Dim>> op = make_spatial_operator(energy, problem.flux);
  TimedOperator<Dim> timed(*op);
  ExplicitRk<Dim> stepper(timed, ExplicitScheme::ssp_rk3, 0.5, q.layout());
  const double array_bytes = static_cast<double>(q.layout().padded_size) * sizeof(double);
  const ByteModel model = byte_model(kernel, Dim, stepper.temporal_blocking());
  const std::size_t cells = grid.num_cells();
  double t = 0.0;
  const std::size_t first_row = rows.size();

  for (const int threads : opt.threads) {
    omp_set_num_threads(threads);
    // Warm-up step, which also calibrates the number of steps per repeat.
    double w0 = omp_get_wtime();
    t += stepper.step(q, t, 1e300).dt;
    const double warm = omp_get_wtime() - w0;
    const long steps = std::max(1L, static_cast<long>(std::ceil(opt.min_time / std::max(warm, 1e-9))));
    std::vector<double> per_step;
    per_step.reserve(static_cast<std::size_t>(opt.repeats));  // no allocation inside the timed loop
    double prepare_s = 0.0, stage_s = 0.0;
    const long allocs_before = heap::allocations.load();
    const double cpu0 = cpu_seconds(), wall0 = omp_get_wtime();
    for (int r = 0; r < opt.repeats; ++r) {
      timed.prepare_seconds = timed.stage_seconds = 0.0;
      const double t0 = omp_get_wtime();
      for (long s = 0; s < steps; ++s) t += stepper.step(q, t, 1e300).dt;
      per_step.push_back((omp_get_wtime() - t0) / static_cast<double>(steps));
      prepare_s += timed.prepare_seconds;
      stage_s += timed.stage_seconds;
    }
    const long allocs = heap::allocations.load() - allocs_before;
    const double cpu_util = (cpu_seconds() - cpu0) / ((omp_get_wtime() - wall0) * threads);
    Row row{};
    row.kernel = kernel;
    row.dim = Dim;
    row.n = n;
    row.cells = cells;
    row.threads = threads;
    row.stages = stepper.stages();
    row.repeats = opt.repeats;
    row.steps_per_repeat = steps;
    row.t_min = *std::min_element(per_step.begin(), per_step.end());
    row.t_median = median(per_step);
    row.prepare_share = prepare_s / std::max(prepare_s + stage_s, 1e-300);
    row.bytes_per_cell = 8.0 * model.arrays_per_step;
    row.model = model.formula;
    row.stream_gbs = 0.0;
    for (const StreamResult& s : stream)
      if (s.threads == threads) row.stream_gbs = s.gbs_best;
    row.allocs_per_step = static_cast<double>(allocs) / static_cast<double>(steps * opt.repeats);
    row.load = load_average();
    row.cpu_util = cpu_util;
    rows.push_back(row);
    std::fprintf(stderr,
                 "  %-8s %dD n=%-9d threads=%d  %8.3e cells/s/step  %6.2f GB/s  %5.1f%% of STREAM  (%ld steps x %d, "
                 "cpu %.2f)\n",
                 to_string(kernel).c_str(), Dim, n, threads, row.rate_best(), row.gbs_best(), row.pct(), steps,
                 opt.repeats, cpu_util);
  }
  const double peak_arrays = static_cast<double>(heap::peak.load() - base_live) / array_bytes;
  double rate1 = std::nan("");
  for (std::size_t i = first_row; i < rows.size(); ++i)
    if (rows[i].threads == 1) rate1 = rows[i].rate_best();
  for (std::size_t i = first_row; i < rows.size(); ++i) {
    rows[i].peak_arrays = peak_arrays;
    rows[i].speedup = rows[i].rate_best() / rate1;
    rows[i].efficiency = rows[i].speedup / rows[i].threads;
  }
  if (!std::isfinite(q[q.layout().offset])) throw std::runtime_error("benchmark state became non-finite");
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------
const char* const csv_columns[] = {
    "kernel", "dim", "n", "cells", "threads", "stages", "repeats", "steps_per_repeat", "t_step_min_s",
    "t_step_median_s", "cells_per_s_step_best", "cells_per_s_step_median", "cells_per_s_stage_best",
    "cells_per_s_stage_median", "prepare_share", "bytes_per_cell_step", "gbs_best", "gbs_median",
    "stream_triad_gbs", "ceiling_cells_per_s", "pct_of_stream", "speedup", "efficiency", "allocs_per_step",
    "peak_arrays", "load_avg", "cpu_util", "byte_model", "git", "compiler", "flags", "cpu", "omp_proc_bind", "omp_places"};
constexpr int num_csv_columns = sizeof(csv_columns) / sizeof(csv_columns[0]);
constexpr int first_text_column = 27;  // byte_model onwards are text

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string num(double v) {
  if (!std::isfinite(v)) return "nan";
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

void write_csv(const Options& opt, const std::vector<StreamResult>& stream, const std::vector<Row>& rows) {
  std::ofstream out(opt.csv);
  if (!out) throw std::runtime_error("cannot write " + opt.csv);
  for (int i = 0; i < num_csv_columns; ++i) out << (i ? "," : "") << csv_columns[i];
  out << "\n";
  const std::string tail = "," + quoted(opt.git) + "," + quoted(compiler()) + "," + quoted(WGFLOW_BENCH_FLAGS) + "," +
                           quoted(cpu_model()) + "," + quoted(env_or("OMP_PROC_BIND", "unset")) + "," +
                           quoted(env_or("OMP_PLACES", "unset"));
  for (const StreamResult& s : stream) {
    const double t_min = 24.0 * static_cast<double>(s.n) / (s.gbs_best * 1e9);
    const double t_med = 24.0 * static_cast<double>(s.n) / (s.gbs_median * 1e9);
    out << "stream-triad,0," << s.n << "," << s.n << "," << s.threads << ",1," << opt.repeats << ",1," << num(t_min)
        << "," << num(t_med) << "," << num(s.n / t_min) << "," << num(s.n / t_med) << "," << num(s.n / t_min) << ","
        << num(s.n / t_med) << ",0,24," << num(s.gbs_best) << "," << num(s.gbs_median) << "," << num(s.gbs_best) << ","
        << num(s.gbs_best * 1e9 / 24.0) << ",100,nan,nan,0,0," << num(load_average()) << ",nan,"
        << quoted("a=b+s*c: 3 arrays") << tail << "\n";
  }
  for (const Row& r : rows) {
    out << to_string(r.kernel) << "," << r.dim << "," << r.n << "," << r.cells << "," << r.threads << "," << r.stages
        << "," << r.repeats << "," << r.steps_per_repeat << "," << num(r.t_min) << "," << num(r.t_median) << ","
        << num(r.rate_best()) << "," << num(r.rate_median()) << "," << num(r.stages * r.rate_best()) << ","
        << num(r.stages * r.rate_median()) << "," << num(r.prepare_share) << "," << num(r.bytes_per_cell) << ","
        << num(r.gbs_best()) << "," << num(r.gbs_median()) << "," << num(r.stream_gbs) << "," << num(r.ceiling())
        << "," << num(r.pct()) << "," << num(r.speedup) << "," << num(r.efficiency) << "," << num(r.allocs_per_step)
        << "," << num(r.peak_arrays) << "," << num(r.load) << "," << num(r.cpu_util) << "," << quoted(r.model) << tail
        << "\n";
  }
}

std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void write_json(const Options& opt, const std::vector<StreamResult>& stream, const std::vector<Row>& rows,
                double load_start, double load_end) {
  std::ofstream out(opt.json);
  if (!out) throw std::runtime_error("cannot write " + opt.json);
  out << "{\n  \"meta\": {\"program\": \"wgflow_bench\", \"git\": " << json_str(opt.git)
      << ", \"compiler\": " << json_str(compiler()) << ", \"flags\": " << json_str(WGFLOW_BENCH_FLAGS)
      << ", \"build_type\": " << json_str(WGFLOW_BENCH_BUILD_TYPE) << ", \"cpu\": " << json_str(cpu_model())
      << ", \"logical_cpus\": " << omp_get_num_procs() << ", \"omp_proc_bind\": "
      << json_str(env_or("OMP_PROC_BIND", "unset")) << ", \"omp_places\": " << json_str(env_or("OMP_PLACES", "unset"))
      << ", \"stepper\": \"ssp-rk3\", \"cfl\": 0.5, \"repeats\": " << opt.repeats << ", \"min_time_s\": " << opt.min_time
      << ", \"quick\": " << (opt.quick ? "true" : "false") << ", \"load_avg_start\": " << num(load_start)
      << ", \"load_avg_end\": " << num(load_end) << "},\n  \"stream_triad\": [";
  for (std::size_t i = 0; i < stream.size(); ++i)
    out << (i ? ", " : "") << "{\"threads\": " << stream[i].threads << ", \"n\": " << stream[i].n
        << ", \"gbs_best\": " << num(stream[i].gbs_best) << ", \"gbs_median\": " << num(stream[i].gbs_median) << "}";
  out << "],\n  \"results\": [\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    auto j = [](double v) { return std::isfinite(v) ? num(v) : std::string("null"); };
    out << "    {\"kernel\": " << json_str(to_string(r.kernel)) << ", \"dim\": " << r.dim << ", \"n\": " << r.n
        << ", \"cells\": " << r.cells << ", \"threads\": " << r.threads << ", \"stages\": " << r.stages
        << ", \"steps_per_repeat\": " << r.steps_per_repeat << ", \"t_step_min_s\": " << j(r.t_min)
        << ", \"t_step_median_s\": " << j(r.t_median) << ", \"cells_per_s_step_best\": " << j(r.rate_best())
        << ", \"cells_per_s_step_median\": " << j(r.rate_median())
        << ", \"cells_per_s_stage_best\": " << j(r.stages * r.rate_best())
        << ", \"cells_per_s_stage_median\": " << j(r.stages * r.rate_median())
        << ", \"prepare_share\": " << j(r.prepare_share) << ", \"bytes_per_cell_step\": " << j(r.bytes_per_cell)
        << ", \"byte_model\": " << json_str(r.model) << ", \"gbs_best\": " << j(r.gbs_best())
        << ", \"gbs_median\": " << j(r.gbs_median()) << ", \"stream_triad_gbs\": " << j(r.stream_gbs)
        << ", \"ceiling_cells_per_s\": " << j(r.ceiling()) << ", \"pct_of_stream\": " << j(r.pct())
        << ", \"speedup\": " << j(r.speedup) << ", \"efficiency\": " << j(r.efficiency)
        << ", \"allocs_per_step\": " << j(r.allocs_per_step) << ", \"peak_arrays\": " << j(r.peak_arrays)
        << ", \"load_avg\": " << j(r.load) << ", \"cpu_util\": " << j(r.cpu_util) << "}" << (i + 1 < rows.size() ? "," : "") << "\n";
  }
  out << "  ]\n}\n";
}

/// Splits one CSV line (RFC 4180 quoting) into fields.
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields(1);
  bool in_quotes = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      in_quotes = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

/// Exit 0 if PATH is a CSV this program writes: the header, every row with all fields, numeric
/// fields numbers, rates finite and positive, no allocation inside the time loop.
int validate(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "validate: cannot read " << path << "\n";
    return 1;
  }
  std::string line;
  if (!std::getline(in, line)) {
    std::cerr << "validate: empty file\n";
    return 1;
  }
  const std::vector<std::string> header = split_csv(line);
  if (static_cast<int>(header.size()) != num_csv_columns) {
    std::cerr << "validate: header has " << header.size() << " columns, expected " << num_csv_columns << "\n";
    return 1;
  }
  for (int i = 0; i < num_csv_columns; ++i)
    if (header[static_cast<std::size_t>(i)] != csv_columns[i]) {
      std::cerr << "validate: column " << i << " is '" << header[static_cast<std::size_t>(i)] << "'\n";
      return 1;
    }
  int kernel_rows = 0, stream_rows = 0, line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    const std::vector<std::string> f = split_csv(line);
    if (static_cast<int>(f.size()) != num_csv_columns) {
      std::cerr << "validate: line " << line_no << " has " << f.size() << " fields\n";
      return 1;
    }
    for (int i = 1; i < first_text_column; ++i) {
      const std::string& s = f[static_cast<std::size_t>(i)];
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0') {
        std::cerr << "validate: line " << line_no << " column " << csv_columns[i] << " is not a number: '" << s << "'\n";
        return 1;
      }
      const std::string col = csv_columns[i];
      const bool must_be_positive = col.rfind("cells_per_s", 0) == 0 || col.rfind("gbs", 0) == 0 ||
                                    col == "stream_triad_gbs" || col == "t_step_min_s" || col == "pct_of_stream";
      if (must_be_positive && !(std::isfinite(v) && v > 0.0)) {
        std::cerr << "validate: line " << line_no << " column " << col << " = " << s << " (must be > 0)\n";
        return 1;
      }
      if (col == "allocs_per_step" && v != 0.0) {
        std::cerr << "validate: line " << line_no << ": " << s << " allocations per step inside the time loop\n";
        return 1;
      }
    }
    (f[0] == "stream-triad" ? stream_rows : kernel_rows) += 1;
  }
  if (kernel_rows == 0 || stream_rows == 0) {
    std::cerr << "validate: " << kernel_rows << " kernel rows and " << stream_rows << " stream rows\n";
    return 1;
  }
  std::cout << "validate: " << path << ": " << kernel_rows << " kernel rows, " << stream_rows << " stream rows, ok\n";
  return 0;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<int> split_ints(const std::string& s, const std::string& flag) {
  std::vector<int> out;
  for (const std::string& item : split(s)) {
    try {
      out.push_back(std::stoi(item));
    } catch (const std::exception&) {
      throw std::invalid_argument(flag + ": not an integer list: '" + s + "'");
    }
    if (out.back() <= 0) throw std::invalid_argument(flag + ": values must be positive");
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options opt;
    bool threads_given = false;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= args.size()) throw std::invalid_argument(a + ": missing value");
        return args[++i];
      };
      if (a == "--validate") return validate(value());
      if (a == "--quick") {
        opt.quick = true;
        opt.sizes[0] = {20000};
        opt.sizes[1] = {128};
        opt.sizes[2] = {26};
        opt.min_time = 0.005;
        opt.stream_n = std::size_t{1} << 20;
      } else if (a == "--threads") {
        opt.threads = split_ints(value(), a);
        threads_given = true;
      } else if (a == "--kernels") {
        opt.kernels.clear();
        for (const std::string& k : split(value())) opt.kernels.push_back(parse_kernel(k));
      } else if (a == "--dims") {
        opt.dims = split_ints(value(), a);
      } else if (a == "--sizes-1d") {
        opt.sizes[0] = split_ints(value(), a);
      } else if (a == "--sizes-2d") {
        opt.sizes[1] = split_ints(value(), a);
      } else if (a == "--sizes-3d") {
        opt.sizes[2] = split_ints(value(), a);
      } else if (a == "--repeats") {
        opt.repeats = std::max(1, std::stoi(value()));
      } else if (a == "--min-time") {
        opt.min_time = std::stod(value());
      } else if (a == "--stream-n") {
        opt.stream_n = static_cast<std::size_t>(std::stoull(value()));
      } else if (a == "--csv") {
        opt.csv = value();
      } else if (a == "--json") {
        opt.json = value();
      } else if (a == "--git") {
        opt.git = value();
      } else if (a == "--help" || a == "-h") {
        std::cout << "usage: wgflow_bench [--quick] [--threads 1,2] [--kernels sg-heat,sg-fp,porous] [--dims 1,2,3]\n"
                     "       [--sizes-1d N,..] [--sizes-2d N,..] [--sizes-3d N,..] [--repeats R] [--min-time S]\n"
                     "       [--stream-n N] [--csv PATH] [--json PATH] [--git HASH]\n"
                     "       wgflow_bench --validate PATH.csv\n";
        return 0;
      } else {
        throw std::invalid_argument("unknown argument '" + a + "' (see --help)");
      }
    }
    if (!threads_given)
      for (int p = 1; p <= omp_get_num_procs(); ++p) opt.threads.push_back(p);

    const double load_start = load_average();
    std::fprintf(stderr, "wgflow_bench: %s, %s, git %s, load %.2f, OMP_PROC_BIND=%s OMP_PLACES=%s\n",
                 cpu_model().c_str(), compiler().c_str(), opt.git.c_str(), load_start,
                 env_or("OMP_PROC_BIND", "unset").c_str(), env_or("OMP_PLACES", "unset").c_str());
    std::vector<StreamResult> stream;
    for (const int p : opt.threads) {
      stream.push_back(stream_triad(p, opt.stream_n, std::max(opt.repeats, 10)));
      std::fprintf(stderr, "  stream   triad n=%zu threads=%d  %.2f GB/s (median %.2f)\n", opt.stream_n, p,
                   stream.back().gbs_best, stream.back().gbs_median);
    }
    std::vector<Row> rows;
    for (const Kernel k : opt.kernels)
      for (const int d : opt.dims)
        for (const int n : opt.sizes[d - 1]) {
          if (d == 1) run_case<1>(opt, k, n, stream, rows);
          if (d == 2) run_case<2>(opt, k, n, stream, rows);
          if (d == 3) run_case<3>(opt, k, n, stream, rows);
        }
    write_csv(opt, stream, rows);
    write_json(opt, stream, rows, load_start, load_average());
    std::fprintf(stderr, "wgflow_bench: wrote %s and %s (load %.2f at the end)\n", opt.csv.c_str(), opt.json.c_str(),
                 load_average());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wgflow_bench: error: %s\n", e.what());
    return 1;
  }
}
