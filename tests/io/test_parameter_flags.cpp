#include <doctest/doctest.h>

#include "grids/grid.hpp"
#include "io/parameter_flags.hpp"
#include "solver/energy/potential.hpp"

using namespace wgflow;

TEST_SUITE("unit") {
  TEST_CASE("parameter errors: solver messages name no flag and the option layer adds it") {
    // Below the option layer the key is bare; the user's line is exactly today's.
    try {
      parse_potential_kind("wobbly");
      FAIL("no error");
    } catch (const ParameterError& e) {
      CHECK(e.parameter() == Parameter::potential);
      CHECK(std::string(e.what()).find("--") == std::string::npos);
      CHECK(user_message(e) == "--potential: unknown potential 'wobbly' (allowed: none, quadratic, double-well)");
    }
    try {
      parse_boundary("sticky");
      FAIL("no error");
    } catch (const ParameterError& e) {
      CHECK(std::string(e.what()) == "boundary: unknown boundary 'sticky' (allowed: no-flux, periodic)");
      CHECK(user_message(e) == "--bc: unknown boundary 'sticky' (allowed: no-flux, periodic)");
    }
    // Another parameter mentioned in the message, and a qualifier before the colon.
    const ParameterError mention(Parameter::initial, "zero; cannot rescale it to {mass} or {target-mass}");
    CHECK(user_message(mention) == "--initial: zero; cannot rescale it to --mass or --target-mass");
    const ParameterError qualified(Parameter::initial, "needs the porous-medium case (m > 1)", "barenblatt");
    CHECK(user_message(qualified) == "--initial barenblatt: needs the porous-medium case (m > 1)");
    // Every parameter has a flag of its own.
    for (Parameter p : all_parameters) {
      CHECK(flag_of(p).rfind("--", 0) == 0);
      for (Parameter q : all_parameters) CHECK((p == q) == (flag_of(p) == flag_of(q)));
    }
    // Anything else passes through.
    CHECK(user_message(std::runtime_error("plain")) == "plain");
  }
}
