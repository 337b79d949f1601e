/*
 * gb_module.cpp -- the NEST extension module of brian2_calcium: registers gb_synapse.
 *
 * Built by brian2_calcium.nest.install() (one file, against the headers of the installed
 * NEST), loaded with nest.Install(<path to the built library>).
 */
#include "gb_synapse.h"

#include "nest_extension_interface.h"

namespace brian2_calcium
{

GBCommonProperties::GBCommonProperties()
  : nest::CommonSynapseProperties()
  , w0_( 1.0 )
  , w1_( 1.0 )
  , seed_( -1 )
  , set_name_( "" )
{
  // A neutral model until a parameter set is given (brian2_calcium.nest.syn_spec does).
  gb_params_fill( &model_.p, 0.02, 1.0, 1.3, 200.0, 321.808, 0.0, 150.0, 0.5, 1, GB_GATING_DP );
  gb_params_prepare( &model_.p );
  model_.D = 0.0;
  model_.Cpre = 1.0;
  model_.Cpost = 2.0;
  model_.eta = 0.0;
  model_.stp_U = 0.0;
  model_.tau_rec = 0.0;
  model_.rho_scales_cpre = 0;
}

void
GBCommonProperties::get_status( ::Dictionary& d ) const
{
  nest::CommonSynapseProperties::get_status( d );
  const gb_params& p = model_.p;
  d[ "tau_ca" ] = p.tau_ca * 1e3;
  d[ "theta_d" ] = p.theta_d;
  d[ "theta_p" ] = p.theta_p;
  d[ "gamma_d" ] = p.gamma_d;
  d[ "gamma_p" ] = p.gamma_p;
  d[ "sigma" ] = p.sigma;
  d[ "tau" ] = p.tau * 1e3;
  d[ "rho_star" ] = p.rho_star;
  d[ "bistable" ] = static_cast< bool >( p.bistable );
  d[ "gating" ] = static_cast< long >( p.gating );
  d[ "D" ] = model_.D * 1e3;
  d[ "Cpre" ] = model_.Cpre;
  d[ "Cpost" ] = model_.Cpost;
  d[ "eta" ] = model_.eta;
  d[ "stp_U" ] = model_.stp_U;
  d[ "tau_rec" ] = model_.tau_rec * 1e3;
  d[ "rho_scales_cpre" ] = static_cast< bool >( model_.rho_scales_cpre );
  d[ "w0" ] = w0_;
  d[ "w1" ] = w1_;
  d[ "seed" ] = seed_;
  d[ "parameter_set" ] = set_name_;
}

namespace
{
// Times are given in ms (NEST's unit) and kept in s (the kernel's).
bool
update_ms( const ::Dictionary& d, const char* name, double& seconds )
{
  double ms = seconds * 1e3;
  if ( not d.update_value( name, ms ) )
  {
    return false;
  }
  seconds = ms * 1e-3;
  return true;
}

void
require( bool ok, const std::string& what )
{
  if ( not ok )
  {
    throw nest::BadProperty( "gb_synapse: " + what );
  }
}
}

void
GBCommonProperties::set_status( const ::Dictionary& d, nest::ConnectorModel& cm )
{
  nest::CommonSynapseProperties::set_status( d, cm );
  gb_synapse_model m = model_;
  gb_params& p = m.p;
  update_ms( d, "tau_ca", p.tau_ca );
  d.update_value( "theta_d", p.theta_d );
  d.update_value( "theta_p", p.theta_p );
  d.update_value( "gamma_d", p.gamma_d );
  d.update_value( "gamma_p", p.gamma_p );
  d.update_value( "sigma", p.sigma );
  update_ms( d, "tau", p.tau );
  d.update_value( "rho_star", p.rho_star );
  bool bistable = p.bistable;
  d.update_value( "bistable", bistable );
  p.bistable = bistable;
  long gating = p.gating;
  d.update_integer_value( "gating", gating );
  p.gating = static_cast< int >( gating );
  update_ms( d, "D", m.D );
  d.update_value( "Cpre", m.Cpre );
  d.update_value( "Cpost", m.Cpost );
  d.update_value( "eta", m.eta );
  d.update_value( "stp_U", m.stp_U );
  update_ms( d, "tau_rec", m.tau_rec );
  bool scales = m.rho_scales_cpre;
  d.update_value( "rho_scales_cpre", scales );
  m.rho_scales_cpre = scales;
  double w0 = w0_, w1 = w1_;
  d.update_value( "w0", w0 );
  d.update_value( "w1", w1 );
  long seed = seed_;
  d.update_integer_value( "seed", seed );
  std::string set_name = set_name_;
  d.update_value( "parameter_set", set_name );

  require( p.tau_ca > 0.0 and std::isfinite( p.tau_ca ), "tau_ca must be positive" );
  require( p.tau > 0.0 and std::isfinite( p.tau ), "tau must be positive" );
  require( p.theta_d > 0.0 and p.theta_p > 0.0, "theta_d and theta_p must be positive" );
  require( p.gamma_d >= 0.0 and p.gamma_p >= 0.0, "gamma_d and gamma_p must be >= 0" );
  require( p.sigma >= 0.0, "sigma must be >= 0" );
  require( gating >= GB_GATING_NONE and gating <= GB_GATING_DP, "gating must be 0 (none), 1 (D) or 2 (DP)" );
  require( m.D >= 0.0 and std::isfinite( m.D ), "D must be >= 0 ms" );
  require( m.Cpre >= 0.0 and m.Cpost >= 0.0 and m.eta >= 0.0, "Cpre, Cpost and eta must be >= 0" );
  require( m.stp_U >= 0.0 and m.stp_U <= 1.0, "stp_U must lie in [0, 1]" );
  require( m.stp_U == 0.0 or m.tau_rec > 0.0, "tau_rec must be positive with short-term depression" );
  require( std::isfinite( w0 ) and std::isfinite( w1 ), "w0 and w1 must be finite" );
  require( seed >= -1, "seed must be >= 0 (or -1: NEST's rng_seed)" );
  gb_params_prepare( &p );
  model_ = m;
  w0_ = w0;
  w1_ = w1;
  seed_ = seed;
  set_name_ = set_name;
}

class GBModule : public nest::NESTExtensionInterface
{
public:
  void
  initialize() override
  {
    nest::register_connection_model< gb_synapse >( "gb_synapse" );
  }
};

} // namespace brian2_calcium

// NEST finds the module through this symbol (<library name>_LTX_module).
brian2_calcium::GBModule brian2_calcium_nest_LTX_module;
