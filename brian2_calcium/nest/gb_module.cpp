/*
 * gb_module.cpp -- the NEST extension module of brian2_calcium: registers gb_synapse and
 * gb_synapse_per_connection.
 *
 * Built by brian2_calcium.nest.install() (one file, against the headers of the installed
 * NEST), loaded with nest.Install(<path to the built library>).
 */
#include "gb_synapse.h"

#include "nest_extension_interface.h"

namespace brian2_calcium
{

GBCommonProperties::GBCommonProperties( bool numbers_per_connection )
  : nest::CommonSynapseProperties()
  , release_scales_weight_( false )
  , w0_( 1.0 )
  , w1_( 1.0 )
  , seed_( -1 )
  , set_name_( "" )
  , numbers_per_connection_( numbers_per_connection )
{
  gb_neutral_model( model_ );
}

void
GBCommonProperties::get_status( ::Dictionary& d ) const
{
  nest::CommonSynapseProperties::get_status( d );
  if ( not numbers_per_connection_ )
  {
    gb_put_numbers( d, model_ );
  }
  d[ "bistable" ] = static_cast< bool >( model_.p.bistable );
  d[ "gating" ] = static_cast< long >( model_.p.gating );
  d[ "rho_scales_cpre" ] = static_cast< bool >( model_.rho_scales_cpre );
  d[ "release_sites" ] = static_cast< long >( model_.release_sites );
  d[ "release_scales_weight" ] = release_scales_weight_;
  d[ "w0" ] = w0_;
  d[ "w1" ] = w1_;
  d[ "seed" ] = seed_;
  d[ "parameter_set" ] = set_name_;
}

namespace
{
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
  // per connection, the numbers go to the model's default connection (NEST passes it d)
  const bool numbers = not numbers_per_connection_ and gb_take_numbers( d, m );
  bool bistable = m.p.bistable;
  d.update_value( "bistable", bistable );
  m.p.bistable = bistable;
  long gating = m.p.gating;
  d.update_integer_value( "gating", gating );
  m.p.gating = static_cast< int >( gating );
  bool scales = m.rho_scales_cpre;
  d.update_value( "rho_scales_cpre", scales );
  m.rho_scales_cpre = scales;
  long sites = m.release_sites;
  d.update_integer_value( "release_sites", sites );
  require( sites >= 0 and sites <= GB_MAX_RELEASE_SITES,
    "release_sites must be a whole number of sites from 0 (deterministic release) to "
      + std::to_string( GB_MAX_RELEASE_SITES ) + ", got " + std::to_string( sites ) );
  m.release_sites = static_cast< int32_t >( sites );
  bool release_scales_weight = release_scales_weight_;
  d.update_value( "release_scales_weight", release_scales_weight );
  double w0 = w0_, w1 = w1_;
  d.update_value( "w0", w0 );
  d.update_value( "w1", w1 );
  long seed = seed_;
  d.update_integer_value( "seed", seed );
  std::string set_name = set_name_;
  d.update_value( "parameter_set", set_name );

  if ( numbers or not numbers_per_connection_ )
  {
    gb_check_numbers( m );
  }
  require( gating >= GB_GATING_NONE and gating <= GB_GATING_DP, "gating must be 0 (none), 1 (D) or 2 (DP)" );
  require( std::isfinite( w0 ) and std::isfinite( w1 ), "w0 and w1 must be finite" );
  require( seed >= -1, "seed must be >= 0 (or -1: NEST's rng_seed)" );
  gb_params_prepare( &m.p );
  model_ = m;
  release_scales_weight_ = release_scales_weight;
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
    nest::register_connection_model< gb_synapse_per_connection >( "gb_synapse_per_connection" );
  }
};

} // namespace brian2_calcium

// NEST finds the module through this symbol (<library name>_LTX_module).
brian2_calcium::GBModule brian2_calcium_nest_LTX_module;
