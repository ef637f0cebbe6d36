#include "io/options.hpp"

#include <boost/program_options.hpp>
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

po::options_description run_options_description(RunConfig& c, std::string& domain, std::string& bc,
                                                std::string& potential_center, std::string& gaussian_center,
                                                std::string& config_file) {
  po::options_description d("wgflow run options (each also accepted as `name = value` in a --config INI file)");
  // clang-format off
  d.add_options()
    ("help", "print this help and exit")
    ("config", po::value(&config_file), "INI file with any of these options; the command line wins")
    ("restart", po::value<std::string>(), "PATH.h5: continue an interrupted run to its t-end, appending to PATH.h5 "
        "(its stored configuration is used; only --threads and --quiet may be added)")
    ("case", po::value(&c.case_name)->default_value(c.case_name),
        "heat | fokker-planck | porous-medium | aggregation-diffusion | keller-segel | f-divergence")
    ("dim", po::value(&c.dim)->default_value(c.dim), "dimension: 1 | 2 | 3")
    ("n", po::value(&c.n)->default_value(c.n), "cells per axis, >= 2")
    ("domain", po::value(&domain)->default_value("-5,5"), "A,B: the box [A,B]^dim (write --domain=-5,5)")
    ("bc", po::value(&bc)->default_value("no-flux"), "no-flux | periodic, or one per axis: periodic,no-flux")
    ("diffusion", po::value(&c.diffusion)->default_value(c.diffusion), "D > 0: U = D q log q, or D q^m/(m-1) (aggregation-diffusion: D >= 0, 0 for none)")
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
        "implicit-euler: multigrid (hypre's PFMG-preconditioned CG/BiCGSTAB; builds with hypre) | eigen "
        "(Eigen's Jacobi/incomplete-factorisation CG and BiCGSTAB, for comparison)")
    ("order", po::value(&c.order)->default_value(c.order), "upwind reconstruction order: 1 | 2 (the SG flux is always second order)")
    ("cfl", po::value(&c.cfl)->default_value(c.cfl), "fraction of the positivity/parabolic step limit, in (0, 1]")
    ("snapshots", po::value(&c.snapshots)->default_value(c.snapshots), "K: write K+1 snapshots, at t = 0 and t_end k/K")
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
        "f-divergence: the mass of p (0: the initial density's mass)");
  // clang-format on
  return d;
}

}  // namespace

namespace {

/// Turns the parsed strings (lists, A,B pairs) into the config's fields and validates it.
void finish(RunConfig& c, const std::string& domain, const std::string& bc, const std::string& potential_center,
            const std::string& gaussian_center) {
  const std::vector<double> ab = parse_numbers("domain", domain);
  if (ab.size() != 2) throw ConfigError("--domain: must be A,B (got '" + domain + "')");
  c.domain = {ab[0], ab[1]};
  c.bc = split_list(bc);
  if (!potential_center.empty()) c.potential_center = parse_numbers("potential-center", potential_center);
  if (!gaussian_center.empty()) c.gaussian_center = parse_numbers("gaussian-center", gaussian_center);
  c.validate();
}

}  // namespace

ParsedRunOptions parse_run_options(const std::vector<std::string>& args) {
  ParsedRunOptions parsed;
  RunConfig& c = parsed.config;
  std::string domain, bc, potential_center, gaussian_center, config_file;
  const po::options_description desc =
      run_options_description(c, domain, bc, potential_center, gaussian_center, config_file);
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
      std::ifstream file(path);
      if (!file) throw ConfigError("--config: cannot read '" + path + "'");
      po::store(po::parse_config_file(file, desc), vm);  // values already set on the command line win
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
    for (const auto& [name, value] : vm)
      if (!value.defaulted() && name != "restart" && name != "threads" && name != "quiet")
        throw ConfigError("--restart: cannot be combined with --" + name +
                          " (the run continues with the configuration stored in " + parsed.restart + ")");
    return parsed;
  }
  finish(c, domain, bc, potential_center, gaussian_center);
  return parsed;
}

RunConfig parse_config_text(const std::string& ini_text) {
  RunConfig c;
  std::string domain, bc, potential_center, gaussian_center, config_file;
  const po::options_description desc =
      run_options_description(c, domain, bc, potential_center, gaussian_center, config_file);
  po::variables_map vm;
  try {
    std::istringstream text(ini_text);
    po::store(po::parse_config_file(text, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(std::string("stored configuration: ") + e.what());
  }
  finish(c, domain, bc, potential_center, gaussian_center);
  return c;
}

}  // namespace wgflow
