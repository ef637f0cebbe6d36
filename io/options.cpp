#include "io/options.hpp"

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "solver/energy/parse_number.hpp"

namespace po = boost::program_options;

namespace wgflow {

namespace {

/// Splits "a,b,c" into its comma-separated parts.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) parts.push_back(item);
  if (!text.empty() && text.back() == ',') parts.emplace_back();
  return parts;
}

std::vector<double> parse_numbers(const std::string& option, const std::string& text) {
  std::vector<double> values;
  for (const std::string& part : split_list(text)) {
    const std::optional<double> v = parse_finite(part);
    if (!v) throw ConfigError("--" + option + ": '" + text + "' is not a comma-separated list of finite numbers");
    values.push_back(*v);
  }
  return values;
}

/// Opens an INI file for --config: a regular file of at most 1 MiB (a directory would read as empty,
/// /dev/zero would never end).
std::ifstream open_ini_file(const std::string& path) {
  namespace fs = std::filesystem;
  constexpr std::uintmax_t max_bytes = 1 << 20;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw ConfigError("--config: cannot read '" + path + "': no such file");
  if (!fs::is_regular_file(status))
    throw ConfigError("--config: '" + path + "' is not a regular file (" +
                      (fs::is_directory(status) ? std::string("a directory") : std::string("a device, pipe or socket")) +
                      "); give an INI file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec || size > max_bytes)
    throw ConfigError("--config: '" + path + "' is " + std::to_string(size) + " bytes; an INI file may have at most " +
                      std::to_string(max_bytes) + " (1 MiB)");
  std::ifstream file(path);
  if (!file) throw ConfigError("--config: cannot read '" + path + "'");
  return file;
}

/// The value of the double option `name`, exactly, for messages.
std::string vm_text(const po::variables_map& vm, const std::string& name) { return format_exact(vm[name].as<double>()); }

po::options_description run_options_description(RunConfig& c, std::string& domain, std::string& bc,
                                                std::string& potential_center, std::string& gaussian_center,
                                                std::string& data_range, std::string& config_file) {
  po::options_description d("wgflow run options (each also accepted as `name = value` in a --config INI file)");
  // clang-format off
  d.add_options()
    ("help", "print this help and exit")
    ("config", po::value(&config_file), "INI file with any of these options; the command line wins")
    ("restart", po::value<std::string>(), "PATH.h5: continue an interrupted run to its t-end, appending to PATH.h5 "
        "(its stored configuration is used; only --threads and --quiet may be added)")
    ("case", po::value(&c.case_name)->default_value(c.case_name),
        "heat | fokker-planck | porous-medium | aggregation-diffusion | keller-segel | f-divergence | mean-field-network")
    ("dim", po::value(&c.dim)->default_value(c.dim), "dimension: 1 | 2 | 3")
    ("n", po::value(&c.n)->default_value(c.n), "cells per axis, >= 2")
    ("domain", po::value(&domain)->default_value("-5,5"),
        "A,B: the box [A,B]^dim (write --domain=-5,5), or one A,B per axis x:y:z as --domain=-3,3:-4,4:-2,2")
    ("bc", po::value(&bc)->default_value("no-flux"), "no-flux | periodic, or one per axis: periodic,no-flux")
    ("diffusion", po::value(&c.diffusion)->default_value(c.diffusion), "D > 0: U = D q log q, or D q^m/(m-1) (aggregation-diffusion, mean-field-network: D >= 0, 0 for none; mean-field-network's default is 0)")
    ("m", po::value(&c.m)->default_value(c.m), "porous-medium exponent m in (1, 10]")
    ("potential", po::value(&c.potential)->default_value(c.potential),
        "auto | none | quadratic | double-well | a formula in x, y, z such as \"(x^2-1)^2/4 + y^2/2\" "
        "(auto: quadratic for fokker-planck, else none)")
    ("gamma", po::value(&c.gamma)->default_value(c.gamma), "quadratic potential gamma|x-c|^2/2, gamma > 0")
    ("potential-center", po::value(&potential_center), "c of the quadratic potential, one value or one per axis (default 0)")
    ("kernel", po::value(&c.kernel)->default_value(c.kernel),
        "interaction W = chi w: auto | none | newtonian | gaussian:sigma=S | morse:ca=A,la=L,cr=R,lr=M | power:a=A | "
        "attractive-repulsive | expr:FORMULA in r such as \"expr:exp(-r^2)\" (smooth kernels only) "
        "(auto: newtonian for keller-segel, attractive-repulsive for aggregation-diffusion, else none)")
    ("chi", po::value(&c.chi)->default_value(c.chi), "interaction strength chi (keller-segel: > 0; else != 0)")
    ("initial", po::value(&c.initial)->default_value(c.initial),
        "auto | gaussian | barenblatt | uniform | file:PATH.h5 | a formula in x, y, z such as \"exp(-x^2)\" "
        "(auto: barenblatt for porous-medium, else gaussian)")
    ("mass", po::value(&c.mass)->default_value(c.mass), "rescale the initial density to this mass (0: 1 for the built-in profiles, the own mass of a file or formula)")
    ("gaussian-center", po::value(&gaussian_center), "centre of the gaussian initial density (default: the domain's midpoint)")
    ("gaussian-width", po::value(&c.gaussian_width)->default_value(c.gaussian_width), "its standard deviation (0: (B-A)/20)")
    ("t-end", po::value(&c.t_end)->default_value(c.t_end), "final time > 0")
    ("stepper", po::value(&c.stepper)->default_value(c.stepper), "euler | ssp-rk2 | ssp-rk3 | implicit-euler")
    ("dt", po::value(&c.dt)->default_value(c.dt),
        "implicit-euler: a fixed time step > 0, or 0 for adaptive steps (from 10x the explicit limit, "
        "x1.5 per easy step up to 1e4x: for steady states)")
    ("linear-solver", po::value(&c.linear_solver)->default_value(c.linear_solver),
        "implicit-euler: multigrid (hypre's PFMG-preconditioned CG; Newton systems BiCGSTAB + PFMG, retried "
        "with SMG when PFMG stalls, SMG in 1D; builds with hypre) | eigen "
        "(Eigen's Jacobi/incomplete-factorisation CG and BiCGSTAB, for comparison)")
    ("order", po::value(&c.order)->default_value(c.order), "upwind reconstruction order: 1 | 2 (the SG flux is always second order)")
    ("cfl", po::value(&c.cfl)->default_value(c.cfl), "fraction of the positivity/parabolic step limit, in (0, 1]")
    ("snapshots", po::value(&c.snapshots)->default_value(c.snapshots), "K: write K+1 snapshots, at t = 0 and t_end k/K")
    ("diagnostics-every", po::value(&c.diagnostics_every)->default_value(c.diagnostics_every),
        "K: keep a /diagnostics row every K steps and at every snapshot (the energy is still checked every step)")
    ("threads", po::value(&c.threads)->default_value(c.threads), "OpenMP threads (0: OMP_NUM_THREADS or all cores)")
    ("out", po::value(&c.out)->default_value(c.out), "output HDF5 file (an XDMF sidecar goes next to it)")
    ("overwrite", po::bool_switch(&c.overwrite), "replace an existing output file")
    ("quiet", po::bool_switch(&c.quiet), "print nothing but errors")
    ("divergence", po::value(&c.divergence)->default_value(c.divergence),
        "f-divergence: kl | reverse-kl | chi2 | hellinger | jensen-shannon | alpha:A (A in [-10, 10]; "
        "alpha:0 = kl, alpha:1 = reverse-kl); kl runs with the SG flux, the others with the upwind flux")
    ("target", po::value(&c.target)->default_value(c.target),
        "f-divergence target p: gaussian[:mean=X,Y:width=S] | mixture:means=X,Y;X,Y;...[:weights=W,...][:widths=S,...] "
        "| file:PATH.h5 | a formula in x, y, z; normalised to --target-mass")
    ("target-epsilon", po::value(&c.target_epsilon)->default_value(c.target_epsilon),
        "f-divergence: the regularisation r = (p + eps)/(q + eps), eps = this x max p, in (0, 0.1] (not used by kl)")
    ("target-mass", po::value(&c.target_mass)->default_value(c.target_mass),
        "f-divergence: the mass of p (0: the initial density's mass)")
    ("output-weight", po::value(&c.output_weight)->default_value(c.output_weight),
        "mean-field-network: the output weight a = A of the 1D (w) and 2D (w, b) parameter grids")
    ("data", po::value(&c.data)->default_value(c.data),
        "mean-field-network: file:PATH.h5 (datasets /x and /y, n values each) or a formula in x for y")
    ("data-points", po::value(&c.data_points)->default_value(c.data_points),
        "mean-field-network: n equispaced points x_j of a --data formula, in [2, 2000]")
    ("data-range", po::value(&data_range)->default_value("-1,1"), "mean-field-network: A,B: the points span [A,B]")
    ("activation", po::value(&c.activation)->default_value(c.activation), "mean-field-network: relu | tanh | sigmoid")
    ("particles", po::value(&c.particles)->default_value(c.particles),
        "N: particles sampled from the initial density and carried by the flow's velocity, written to "
        "/steps/NNNNNN/particles (0: none); or file:PATH.h5 with their initial positions in /positions (N x dim)")
    ("particles-seed", po::value(&c.particles_seed)->default_value(c.particles_seed),
        "seed of the particle sampling (integer >= 0)");
  // clang-format on
  return d;
}

}  // namespace

namespace {

/// Turns the parsed strings (lists, A,B pairs) into the config's fields and validates it.
void finish(RunConfig& c, const std::string& domain, const std::string& bc, const std::string& potential_center,
            const std::string& gaussian_center, const std::string& data_range) {
  std::vector<std::string> intervals;  // "A,B" or "A,B:C,D:E,F", one interval per axis
  std::stringstream parts(domain);
  for (std::string part; std::getline(parts, part, ':');) intervals.push_back(part);
  if (intervals.empty()) intervals.emplace_back();
  c.domain_axes.clear();
  for (const std::string& interval : intervals) {
    const std::vector<double> ab = parse_numbers("domain", interval);
    if (ab.size() != 2) throw ConfigError("--domain: must be A,B or one A,B per axis as A,B:C,D (got '" + domain + "')");
    c.domain_axes.push_back({ab[0], ab[1]});
  }
  c.domain = c.domain_axes.front();
  if (c.domain_axes.size() == 1) c.domain_axes.clear();
  const std::vector<double> range = parse_numbers("data-range", data_range);
  if (range.size() != 2) throw ConfigError("--data-range: must be A,B (got '" + data_range + "')");
  c.data_range = {range[0], range[1]};
  c.bc = split_list(bc);
  if (!potential_center.empty()) c.potential_center = parse_numbers("potential-center", potential_center);
  if (!gaussian_center.empty()) c.gaussian_center = parse_numbers("gaussian-center", gaussian_center);
  c.validate();
}

}  // namespace

namespace {
/// Boost names an unknown INI key without the file, and a key under a [section] as "section.key":
/// say which file, and that wgflow's INI files are flat "option = value" lines.
po::parsed_options parse_ini_file(std::istream& file, const po::options_description& desc, const std::string& path) {
  try {
    return po::parse_config_file(file, desc);
  } catch (const po::unknown_option& e) {
    const std::string key = e.get_option_name();
    const std::size_t dot = key.find('.');
    if (dot != std::string::npos)
      throw ConfigError("--config: '" + path + "' puts '" + key.substr(dot + 1) + "' under a section [" + key.substr(0, dot) +
                        "]; wgflow's INI files have no sections (write 'option = value' lines, e.g. 'n = 64')");
    throw ConfigError("--config: '" + path + "' sets unknown option '" + key + "' (the keys are the long option names of 'wgflow run --help', without --)");
  }
}
}  // namespace

ParsedRunOptions parse_run_options(const std::vector<std::string>& args) {
  ParsedRunOptions parsed;
  RunConfig& c = parsed.config;
  std::string domain, bc, potential_center, gaussian_center, data_range, config_file;
  const po::options_description desc =
      run_options_description(c, domain, bc, potential_center, gaussian_center, data_range, config_file);
  po::variables_map vm;
  try {
    // No short options: values such as --domain -5,5 must not be read as flags.
    const int style = po::command_line_style::unix_style & ~po::command_line_style::allow_short;
    // Stray words are collected (not silently dropped, Boost's default) and refused below by name.
    po::options_description all(desc);
    all.add_options()("stray-argument", po::value<std::vector<std::string>>());
    po::positional_options_description stray;
    stray.add("stray-argument", -1);
    po::store(po::command_line_parser(args).options(all).positional(stray).style(style).run(), vm);
    if (vm.count("stray-argument")) {
      const std::string word = vm["stray-argument"].as<std::vector<std::string>>().front();
      throw ConfigError("unexpected argument '" + word + "' (options start with --; an INI file goes after --config)");
    }
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream file = open_ini_file(path);
      const po::parsed_options from_file = parse_ini_file(file, desc, path);
      for (const po::option& o : from_file.options)
        if (o.string_key == "config" || o.string_key == "restart" || o.string_key == "help")
          throw ConfigError("--config: '" + path + "' sets '" + o.string_key + "', which only the command line can give" +
                            " (one INI file per run; remove that line)");
      po::store(from_file, vm);  // values already set on the command line win
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(e.what());
  }
  if (vm.count("help")) {
    std::ostringstream s;
    s << "usage: wgflow run [options]\n\n" << desc;
    parsed.help = true;
    parsed.help_text = s.str();
    return parsed;
  }
  if (vm.count("restart")) {
    parsed.restart = vm["restart"].as<std::string>();
    if (parsed.restart.empty()) throw ConfigError("--restart: needs the path of an output to continue (got '')");
    for (const auto& [name, value] : vm)
      if (!value.defaulted() && name != "restart" && name != "threads" && name != "quiet")
        throw ConfigError("--restart: cannot be combined with --" + name +
                          " (the run continues with the configuration stored in " + parsed.restart + ")");
    return parsed;
  }
  if (c.case_name == "mean-field-network" && vm["diffusion"].defaulted()) c.diffusion = 0.0;  // noiseless training
  finish(c, domain, bc, potential_center, gaussian_center, data_range);
  // Options that would be silently ignored for this case are refused, as --dt is without implicit-euler.
  if (!vm["m"].defaulted() && c.case_name != "porous-medium")
    throw ConfigError("--m: the exponent applies to --case porous-medium only (got --m " + vm_text(vm, "m") +
                      " with --case " + c.case_name + ")");
  return parsed;
}

RunConfig parse_config_text(const std::string& ini_text) {
  RunConfig c;
  std::string domain, bc, potential_center, gaussian_center, data_range, config_file;
  const po::options_description desc =
      run_options_description(c, domain, bc, potential_center, gaussian_center, data_range, config_file);
  po::variables_map vm;
  try {
    std::istringstream text(ini_text);
    po::store(po::parse_config_file(text, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(std::string("stored configuration: ") + e.what());
  }
  finish(c, domain, bc, potential_center, gaussian_center, data_range);
  return c;
}

}  // namespace wgflow
