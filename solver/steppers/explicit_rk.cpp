#include "solver/steppers/explicit_rk.hpp"
#include "grids/parameter_error.hpp"

#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "solver/particles.hpp"

namespace wgflow {

ExplicitScheme parse_explicit_scheme(const std::string& text) {
  if (text == "euler") return ExplicitScheme::euler;
  if (text == "ssp-rk2") return ExplicitScheme::ssp_rk2;
  if (text == "ssp-rk3") return ExplicitScheme::ssp_rk3;
  throw ParameterError(Parameter::stepper, "unknown stepper '" + text + "' (allowed: euler, ssp-rk2, ssp-rk3)");
}

std::string to_string(ExplicitScheme scheme) {
  switch (scheme) {
    case ExplicitScheme::euler: return "euler";
    case ExplicitScheme::ssp_rk2: return "ssp-rk2";
    case ExplicitScheme::ssp_rk3: return "ssp-rk3";
  }
  return "?";
}

template <int Dim>
ExplicitRk<Dim>::ExplicitRk(SpatialOperator<Dim>& op, ExplicitScheme scheme, double cfl, const FieldLayout<Dim>& layout)
    : m_op(op), m_scheme(scheme), m_cfl(cfl) {
  switch (scheme) {  // Shu–Osher coefficients
    case ExplicitScheme::euler:
      m_num_stages = 1;
      m_stages = {{{0.0, 1.0}}};
      break;
    case ExplicitScheme::ssp_rk2:
      m_num_stages = 2;
      m_stages = {{{0.0, 1.0}, {0.5, 0.5}}};
      break;
    case ExplicitScheme::ssp_rk3:
      m_num_stages = 3;
      // a = 1 − b, not 1/3: the doubles nearest 1/3 and 2/3 sum to 1 − 2⁻⁵⁴, which scaled the mass by
      // that every step (1.2e-12 after the 21 000 steps of a 512² heat run). 1 − fl(2/3) is exact.
      m_stages = {{{0.0, 1.0}, {0.75, 0.25}, {1.0 - 2.0 / 3.0, 2.0 / 3.0}}};
      break;
  }
  // Peak memory (issue 7: ≤ stages + 3 grid arrays): with in-place stages the step holds qⁿ and one
  // buffer instead of qⁿ and two.
  m_in_place = m_num_stages > 1 && m_op.enable_in_place_stages();
  m_buffer[0] = Field<Dim>(layout);
  if (!m_in_place) m_buffer[1] = Field<Dim>(layout);
  const char* env = std::getenv("WGFLOW_TEMPORAL_BLOCKING");
  set_temporal_blocking(env == nullptr || std::strcmp(env, "0") != 0);
}

template <int Dim>
bool ExplicitRk<Dim>::set_temporal_blocking(bool on) {
  // With in-place stages (3D SG with a potential, for the memory bound of issue 7) every stage's
  // out is the one buffer: only an operator that keeps intermediate stages itself can block then.
  m_blocked = on && m_num_stages > 1 && m_op.enable_blocked_stages(m_num_stages, !m_in_place);
  return m_blocked;
}

template <int Dim>
bool ExplicitRk<Dim>::run_blocked(Field<Dim>& q, double dt, bool check_limits, double& violated_limit, bool& ran) {
  BlockedStages<Dim> step;
  step.stages = m_num_stages;
  step.base = &q;
  step.dt = dt;
  step.observer = m_row_observer;
  for (int j = 0; j < m_num_stages; ++j) {
    const auto u = static_cast<std::size_t>(j);
    step.out[u] = &m_buffer[out_buffer(j)];
    step.in[u] = j == 0 ? &q : &m_buffer[out_buffer(j - 1)];
    step.b[u] = m_stages[u].b;
  }
  if (m_row_observer != nullptr) m_row_observer->begin_pass(omp_get_max_threads());
  ran = m_op.run_blocked_stages(step);
  if (!ran) return false;
  ++m_blocked_runs;
  // The limits the unblocked step checks before stages 1, 2, checked afterwards in the same order:
  // the first violated one gives the same retry, and an accepted step the same state.
  for (int j = 1; j < m_num_stages; ++j) {
    const double limit = step.limit[static_cast<std::size_t>(j)];
    if (check_limits && dt > limit) {
      violated_limit = limit;
      return false;
    }
  }
  if (m_row_observer != nullptr) m_row_observer->end_pass(m_buffer[result()].data());
  return true;
}

template <int Dim>
bool ExplicitRk<Dim>::run_stages(Field<Dim>& q, double dt, bool check_limits, double& violated_limit) {
  if (m_blocked && m_particles == nullptr) {
    bool ran = false;
    const bool accepted = run_blocked(q, dt, check_limits, violated_limit, ran);
    if (ran) return accepted;  // else (bands too thin for this thread count) stage by stage
  }
  if (m_particles != nullptr) m_particles->begin_step();
  for (int j = 0; j < m_num_stages; ++j) {
    Field<Dim>& in = j == 0 ? q : m_buffer[out_buffer(j - 1)];
    if (j > 0) {
      const double limit = m_op.prepare_stage(in);  // `in` is the previous stage's output
      if (check_limits && dt > limit) {
        violated_limit = limit;
        return false;
      }
    }
    // Particles first: an in-place stage overwrites `in`, whose face velocities they need.
    if (m_particles != nullptr) m_particles->stage(m_op, in, dt, m_stages[static_cast<std::size_t>(j)].b);
    // The last stage writes the new state (no limit is checked after it): its rows go to the
    // fused diagnostics while they are in cache.
    RowObserver* const observer = j == m_num_stages - 1 ? m_row_observer : nullptr;
    if (observer != nullptr) {
      m_op.set_row_observer(observer);
      observer->begin_pass(omp_get_max_threads());
    }
    m_op.euler_stage(m_buffer[out_buffer(j)], in, dt, m_stages[static_cast<std::size_t>(j)].a, q,
                     m_stages[static_cast<std::size_t>(j)].b);
    if (observer != nullptr) {
      m_op.set_row_observer(nullptr);
      observer->end_pass(m_buffer[out_buffer(j)].data());
    }
  }
  return true;
}

template <int Dim>
bool ExplicitRk<Dim>::set_row_observer(RowObserver* observer) {
  const bool fused = m_op.set_row_observer(observer);  // asks the operator; set again for each last stage
  m_op.set_row_observer(nullptr);
  m_row_observer = fused ? observer : nullptr;
  return fused;
}

template <int Dim>
StepReport ExplicitRk<Dim>::step(Field<Dim>& q, double t, double t_stop) {
  constexpr int max_rejections = 60;
  const double remaining = t_stop - t;
  StepReport report;
  double dt = m_cfl * m_op.prepare(q);
  if (!(dt >= remaining)) {
    // Land on t_stop in two balanced steps rather than a full step and a sliver.
    if (dt > 0.5 * remaining) dt = 0.5 * remaining;
  } else {
    dt = remaining;
    report.reached_stop = true;
  }
  for (;;) {
    if (!(dt > 0.0) || !std::isfinite(dt)) {
      std::ostringstream msg;
      msg << "time step collapsed to " << dt << " at t = " << t << " (state not finite or too stiff)";
      throw std::runtime_error(msg.str());
    }
    double violated = 0.0;
    if (run_stages(q, dt, true, violated)) break;
    if (++report.rejected > max_rejections) {
      std::ostringstream msg;
      msg << "explicit step rejected " << max_rejections << " times at t = " << t << "; last stage limit " << violated;
      throw std::runtime_error(msg.str());
    }
    dt = m_cfl * violated;
    report.reached_stop = false;
    m_op.prepare(q);  // ξ now belongs to a stage state; restore qⁿ's
  }
  q.swap(m_buffer[result()]);
  if (m_particles != nullptr) m_particles->accept_step();
  report.dt = dt;
  return report;
}

template <int Dim>
void ExplicitRk<Dim>::step_fixed(Field<Dim>& q, double dt) {
  double unused = 0.0;
  m_op.prepare(q);
  run_stages(q, dt, false, unused);
  q.swap(m_buffer[result()]);
  if (m_particles != nullptr) m_particles->accept_step();
}

template class ExplicitRk<1>;
template class ExplicitRk<2>;
template class ExplicitRk<3>;

}  // namespace wgflow
