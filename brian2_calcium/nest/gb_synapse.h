/*
 * gb_synapse.h -- the Graupner-Brunel synapse as a NEST connection model.
 *
 * The same synapse as the Brian2 event template: a synapse is brought up to date only at
 * its own presynaptic spike, by the walk of ../kernel/gb_walk.h (gb_walker_start / _event
 * / _finish, the kernel of gb_kernel.h underneath).  Its two sources of events:
 *
 *   - postsynaptic spikes from the target's archive (NEST's ArchivingNode, read with
 *     get_history over (last update, now], each spike read once per synapse);
 *   - presynaptic calcium arrivals u + D of its own spikes u, which the synapse keeps
 *     while they are pending (up to GB_NEST_PENDING spikes within D of each other, as
 *     step lags: NEST sees a presynaptic spike only when it is sent, and the source may
 *     live on another MPI process).
 *
 * The transmitted weight is w0 + rho(t_pre) (w1 - w0).  A weight given (Connect's or
 * SetStatus's `weight`, as PyNN gives one) sets rho = (weight - w0) / (w1 - w0): the weight
 * is another spelling of rho, never an independent number.  Two models, one code:
 *
 *   - gb_synapse: the numbers of the model (a published set) are common to all synapses
 *     of one NEST synapse model (CopyModel per set); a connection holds only its state;
 *   - gb_synapse_per_connection: each connection holds its own numbers (tau_ca ... tau_fac,
 *     the 15 of GB_NUMBER_NAMES, with the logarithms of its thresholds prepared when they
 *     are set), given at Connect (syn_spec arrays, as NEST's weights) or with SetStatus;
 *     the switches (bistable, gating, rho_scales_cpre, release_sites), w0, w1 and the seed
 *     stay common.
 *     It costs 136 bytes more per connection, which is why gb_synapse remains.
 *
 * Per synapse, in both: rho, calcium, short-term depression and facilitation (resources,
 * time and release fraction of the last presynaptic calcium event) and the pending spikes.
 *
 * Noise: the walk's stream is keyed by (seed, synapse key, time) where the seed is NEST's
 * rng_seed (read when the connection is made, or the model's `seed`) and the key comes
 * from the source and target node ids and the `noise_key` given at Connect (default 0;
 * multapses need different ones to draw independent noise): the numbers depend neither
 * on the thread count nor on the MPI layout.
 *
 * Times: NEST's milliseconds at the interface, seconds inside (the kernel's unit).
 */
#ifndef BRIAN2_CALCIUM_GB_SYNAPSE_H
#define BRIAN2_CALCIUM_GB_SYNAPSE_H

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <deque>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <utility>

#include "connection.h"
#include "histentry.h"
#include "kernel_manager.h"

extern "C" {
#include "gb_walk.h"
}

namespace brian2_calcium
{

/* Presynaptic spikes a synapse can hold whose calcium has not arrived yet (spikes of its
 * source within D of each other); one more makes rho NaN (counted in `overflows`). */
constexpr int GB_NEST_PENDING = 12;

/* NEST's rng_seed as it was when the last gb_synapse connection was made. */
inline std::atomic< long >&
gb_kernel_seed()
{
  static std::atomic< long > seed( -1 );
  return seed;
}

inline void
gb_read_kernel_seed()
{
  ::Dictionary d;
  nest::kernel().random_manager.get_status( d );
  long seed = 0;
  d.update_integer_value( "rng_seed", seed );
  gb_kernel_seed().store( seed, std::memory_order_relaxed );
}

/* -- The numbers of the model: names, NEST units, checks ---------------------------------- */

/* The numbers a connection of gb_synapse_per_connection holds
 * (brian2_calcium.nest.synapse.PER_CONNECTION_PARAMETERS: the per-synapse parameters of the
 * Brian2 templates and tau_fac). */
constexpr int GB_NUMBERS = 15;
constexpr const char* GB_NUMBER_NAMES[ GB_NUMBERS ] = { "tau_ca",
  "theta_d",
  "theta_p",
  "gamma_d",
  "gamma_p",
  "sigma",
  "tau",
  "rho_star",
  "D",
  "Cpre",
  "Cpost",
  "eta",
  "stp_U",
  "tau_rec",
  "tau_fac" };

/* Number k of a model (SI). */
inline double*
gb_number( gb_synapse_model& m, int k )
{
  switch ( k )
  {
  case 0:
    return &m.p.tau_ca;
  case 1:
    return &m.p.theta_d;
  case 2:
    return &m.p.theta_p;
  case 3:
    return &m.p.gamma_d;
  case 4:
    return &m.p.gamma_p;
  case 5:
    return &m.p.sigma;
  case 6:
    return &m.p.tau;
  case 7:
    return &m.p.rho_star;
  case 8:
    return &m.D;
  case 9:
    return &m.Cpre;
  case 10:
    return &m.Cpost;
  case 11:
    return &m.eta;
  case 12:
    return &m.stp_U;
  case 13:
    return &m.tau_rec;
  default:
    return &m.tau_fac;
  }
}

/* Times are given in ms (NEST's unit) and kept in s (the kernel's). */
inline bool
gb_number_in_ms( int k )
{
  return k == 0 or k == 6 or k == 8 or k == 13 or k == 14;
}

/* A neutral model until a parameter set is given (brian2_calcium.nest.syn_spec does). */
inline void
gb_neutral_model( gb_synapse_model& m )
{
  gb_params_fill( &m.p, 0.02, 1.0, 1.3, 200.0, 321.808, 0.0, 150.0, 0.5, 1, GB_GATING_DP );
  gb_params_prepare( &m.p );
  m.D = 0.0;
  m.Cpre = 1.0;
  m.Cpost = 2.0;
  m.eta = 0.0;
  m.stp_U = 0.0;
  m.tau_rec = 0.0;
  m.tau_fac = 0.0;
  m.release_sites = 0;
  m.rho_scales_cpre = 0;
}

inline void
gb_put_numbers( ::Dictionary& d, const gb_synapse_model& model )
{
  gb_synapse_model m = model;
  for ( int k = 0; k < GB_NUMBERS; ++k )
  {
    d[ GB_NUMBER_NAMES[ k ] ] = *gb_number( m, k ) * ( gb_number_in_ms( k ) ? 1e3 : 1.0 );
  }
}

/* The numbers of d (NEST units) into m (SI); whether d gave any. */
inline bool
gb_take_numbers( const ::Dictionary& d, gb_synapse_model& m )
{
  bool given = false;
  for ( int k = 0; k < GB_NUMBERS; ++k )
  {
    double* x = gb_number( m, k );
    const double scale = gb_number_in_ms( k ) ? 1e3 : 1.0;
    double value = *x * scale;
    if ( d.update_value( GB_NUMBER_NAMES[ k ], value ) )
    {
      *x = value / scale;
      given = true;
    }
  }
  return given;
}

inline std::string
gb_shown( double value, bool ms )
{
  std::ostringstream text;
  text << std::setprecision( 10 ) << value * ( ms ? 1e3 : 1.0 ) << ( ms ? " ms" : "" );
  return text.str();
}

/* A BadProperty naming the first number of m that the model cannot take (the ranges of
 * brian2_calcium.parameters.range_error, and theta_p above theta_d). */
inline void
gb_check_numbers( const gb_synapse_model& model )
{
  gb_synapse_model m = model;
  for ( int k = 0; k < GB_NUMBERS; ++k )
  {
    const double x = *gb_number( m, k );
    const std::string name = GB_NUMBER_NAMES[ k ];
    const char* what = nullptr;
    if ( std::isnan( x ) )
    {
      throw nest::BadProperty( "gb_synapse: " + name + " must be a number, got NaN" );
    }
    if ( not std::isfinite( x ) )
    {
      what = "finite";
    }
    else if ( k == 0 or k == 1 or k == 2 or k == 6 )
    {
      what = x > 0.0 ? nullptr : "positive";
    }
    else if ( k == 7 )
    {
      what = x > 0.0 and x < 1.0 ? nullptr : "strictly between 0 and 1";
    }
    else if ( k == 12 )
    {
      what = x >= 0.0 and x <= 1.0 ? nullptr : "in [0, 1] (release fraction, 0 = off)";
    }
    else
    {
      what = x >= 0.0 ? nullptr : "non-negative";
    }
    if ( what )
    {
      throw nest::BadProperty(
        "gb_synapse: " + name + " must be " + what + ", got " + gb_shown( x, gb_number_in_ms( k ) ) );
    }
  }
  if ( not( m.p.theta_p > m.p.theta_d ) )
  {
    throw nest::BadProperty( "gb_synapse: theta_p must be above theta_d, got theta_p=" + gb_shown( m.p.theta_p, false )
      + " <= theta_d=" + gb_shown( m.p.theta_d, false ) );
  }
  if ( m.stp_U > 0.0 and not( m.tau_rec > 0.0 ) )
  {
    throw nest::BadProperty( "gb_synapse: short-term depression (stp_U = " + gb_shown( m.stp_U, false )
      + ") needs a positive tau_rec" );
  }
  if ( m.tau_fac > 0.0 and not( m.stp_U > 0.0 ) )
  {
    throw nest::BadProperty( "gb_synapse: facilitation (tau_fac = " + gb_shown( m.tau_fac, true )
      + ") needs the release fraction stp_U > 0" );
  }
  if ( m.release_sites > 0 and not( m.stp_U > 0.0 ) )
  {
    throw nest::BadProperty( "gb_synapse: stochastic release (release_sites = " + std::to_string( m.release_sites )
      + ") needs the release probability stp_U > 0" );
  }
}

/* The calcium delay a connection can hold: its pending spikes are kept as 16-bit step lags. */
inline void
gb_check_delay( double D )
{
  const double lag_limit = std::numeric_limits< uint16_t >::max() * nest::Time::get_resolution().get_ms();
  if ( D * 1e3 >= lag_limit )
  {
    throw nest::BadProperty( "gb_synapse: the calcium delay D must be shorter than 65535 time steps, got "
      + gb_shown( D, true ) );
  }
}

/* -- Common properties ----------------------------------------------------------------- */

/* What every synapse of one NEST synapse model shares: w0, w1, the seed, the switches of
 * the model (bistable, gating, rho_scales_cpre, release_sites) and, for gb_synapse, every
 * number. */
class GBCommonProperties : public nest::CommonSynapseProperties
{
public:
  explicit GBCommonProperties( bool numbers_per_connection = false );
  void get_status( ::Dictionary& d ) const;
  void set_status( const ::Dictionary& d, nest::ConnectorModel& cm );

  uint64_t
  seed() const
  {
    return static_cast< uint64_t >( seed_ >= 0 ? seed_ : gb_kernel_seed().load( std::memory_order_relaxed ) );
  }

  double
  weight( double rho ) const
  {
    return w0_ + rho * ( w1_ - w0_ );
  }

  // the rho whose weight is w (the inverse of weight()), or an error naming what to set
  double
  rho_of_weight( double w ) const
  {
    if ( not std::isfinite( w ) )
    {
      throw nest::BadProperty( "gb_synapse: the weight must be finite" );
    }
    if ( w1_ == w0_ )
    {
      throw nest::BadProperty(
        "gb_synapse: with w0 == w1 a weight does not determine rho: set rho instead" );
    }
    return ( w - w0_ ) / ( w1_ - w0_ );
  }

  gb_synapse_model model_;      // SI units, parameters prepared (per connection: the switches)
  bool release_scales_weight_;  // transmit the weight times the spike's release
  double w0_, w1_;              // weights of rho = 0 and rho = 1 (the target's unit)
  long seed_;                   // -1: NEST's rng_seed
  std::string set_name_;        // the parameter set, for GetDefaults
  bool numbers_per_connection_; // the numbers are the connections' (not listed here, so
                                // that NEST's Connect takes them per connection)
};

/* The common properties of gb_synapse_per_connection. */
class GBCommonSwitches : public GBCommonProperties
{
public:
  GBCommonSwitches()
    : GBCommonProperties( true )
  {
  }
};

/* -- Where a connection's numbers come from --------------------------------------------- */

/* gb_synapse: from the synapse model (nothing stored per connection). */
class GBSharedNumbers
{
public:
  typedef GBCommonProperties CommonPropertiesType;
  static constexpr const char* refusal = " is common to every connection of a gb_synapse model (set it with "
                                         "SetDefaults or CopyModel; for values per connection use "
                                         "gb_synapse_per_connection: brian2_calcium.nest.syn_spec with a "
                                         "ParameterTable or per_connection=...)";

  const gb_synapse_model&
  model( const CommonPropertiesType& cp, gb_synapse_model& ) const
  {
    return cp.model_;
  }

  void
  get_status( ::Dictionary& d, const CommonPropertiesType& cp ) const
  {
    gb_put_numbers( d, cp.model_ ); // for GetStatus and the read-out, as the other model
  }

  /* A value other than the model's is refused (SetDefaults passes here with the values the
   * model has just taken). */
  bool
  set_status( const ::Dictionary& d, const CommonPropertiesType& cp, bool )
  {
    gb_synapse_model m = cp.model_;
    if ( gb_take_numbers( d, m ) )
    {
      gb_synapse_model shared = cp.model_;
      for ( int k = 0; k < GB_NUMBERS; ++k )
      {
        if ( *gb_number( m, k ) != *gb_number( shared, k ) )
        {
          throw nest::BadProperty( std::string( "gb_synapse: " ) + GB_NUMBER_NAMES[ k ] + refusal );
        }
      }
    }
    return false;
  }
};

/* gb_synapse_per_connection: the connection's own, the logarithms of its thresholds
 * prepared when they are set (what gb_params_prepare does once per model). */
class GBOwnNumbers
{
public:
  typedef GBCommonSwitches CommonPropertiesType;

  GBOwnNumbers()
  {
    gb_synapse_model m;
    gb_neutral_model( m );
    store_( m );
  }

  const gb_synapse_model&
  model( const CommonPropertiesType& cp, gb_synapse_model& m ) const
  {
    m.p.tau_ca = v_[ 0 ];
    m.p.theta_d = v_[ 1 ];
    m.p.theta_p = v_[ 2 ];
    m.p.gamma_d = v_[ 3 ];
    m.p.gamma_p = v_[ 4 ];
    m.p.sigma = v_[ 5 ];
    m.p.tau = v_[ 6 ];
    m.p.rho_star = v_[ 7 ];
    m.p.bistable = cp.model_.p.bistable;
    m.p.gating = cp.model_.p.gating;
    m.p.log_theta_d = log_theta_d_;
    m.p.log_theta_p = log_theta_p_;
    m.D = v_[ 8 ];
    m.Cpre = v_[ 9 ];
    m.Cpost = v_[ 10 ];
    m.eta = v_[ 11 ];
    m.stp_U = v_[ 12 ];
    m.tau_rec = v_[ 13 ];
    m.tau_fac = v_[ 14 ];
    m.rho_scales_cpre = cp.model_.rho_scales_cpre;
    m.release_sites = cp.model_.release_sites;
    return m;
  }

  void
  get_status( ::Dictionary& d, const CommonPropertiesType& cp ) const
  {
    gb_synapse_model m;
    gb_put_numbers( d, model( cp, m ) );
  }

  /* Take the numbers d gives; whether it gave any. */
  bool
  set_status( const ::Dictionary& d, const CommonPropertiesType& cp, bool connected )
  {
    gb_synapse_model m;
    model( cp, m );
    if ( not gb_take_numbers( d, m ) )
    {
      return false;
    }
    gb_check_numbers( m );
    if ( connected )
    {
      gb_check_delay( m.D );
    }
    gb_params_prepare( &m.p );
    store_( m );
    return true;
  }

private:
  void
  store_( gb_synapse_model& m )
  {
    for ( int k = 0; k < GB_NUMBERS; ++k )
    {
      v_[ k ] = *gb_number( m, k );
    }
    log_theta_d_ = m.p.log_theta_d;
    log_theta_p_ = m.p.log_theta_p;
  }

  double v_[ GB_NUMBERS ]; // SI, in the order of GB_NUMBER_NAMES
  double log_theta_d_, log_theta_p_;
};

/* -- The connection ---------------------------------------------------------------------- */

template < typename targetidentifierT, typename NumbersT >
class gb_connection : public nest::Connection< targetidentifierT >
{
public:
  typedef typename NumbersT::CommonPropertiesType CommonPropertiesType;
  typedef nest::Connection< targetidentifierT > ConnectionBase;

  static constexpr nest::ConnectionModelProperties properties = nest::ConnectionModelProperties::HAS_DELAY
    | nest::ConnectionModelProperties::IS_PRIMARY | nest::ConnectionModelProperties::SUPPORTS_HPC
    | nest::ConnectionModelProperties::SUPPORTS_LBL;

  gb_connection();
  gb_connection( const gb_connection& ) = default;
  gb_connection& operator=( const gb_connection& ) = default;

  using ConnectionBase::get_delay;
  using ConnectionBase::get_delay_steps;
  using ConnectionBase::get_rport;
  using ConnectionBase::get_syn_id;
  using ConnectionBase::get_target;

  void get_status( ::Dictionary& d ) const;
  void set_status( const ::Dictionary& d, nest::ConnectorModel& cm );
  bool send( nest::Event& e, size_t tid, const CommonPropertiesType& cp );

  // Connect's weight (NEST passes it apart from the other values): the rho it spells
  void
  set_weight( double w )
  {
    rho_ = common_properties_( get_syn_id() ).rho_of_weight( w );
    connected_ |= WEIGHT_GIVEN;
  }

  class ConnTestDummyNode : public nest::ConnTestDummyNodeBase
  {
  public:
    using nest::ConnTestDummyNodeBase::handles_test_event;
    size_t
    handles_test_event( nest::SpikeEvent&, size_t ) override
    {
      return nest::invalid_port;
    }
  };

  void check_connection( nest::Node& s, nest::Node& t, size_t receptor_type, const CommonPropertiesType& cp );

private:
  static const CommonPropertiesType& common_properties_( nest::synindex syn_id );
  void check_read_only_( const ::Dictionary& d, const CommonPropertiesType& cp ) const;
  struct AtRead
  {
    double t_ms, rho, c, cpre;
  };
  AtRead at_read_( const gb_synapse_model& m ) const;

  // the state kept between walks (gb_synapse_state without the Brian2 counters)
  double rho_, c_, cpre_, tlast_, xres_, tpre_; // s
  double ufac_; // release fraction of the last presynaptic calcium event (0 before the first)
  long read_step_;                               // step of the last update (last presynaptic spike)
  uint32_t key_;                                 // noise key from the source and target node ids
  uint16_t lag_[ GB_NEST_PENDING ];              // pending spikes: steps before read_step_, oldest first
  uint8_t n_pending_;
  uint8_t overflowed_;
  uint8_t connected_; // CONNECTED: check_connection has run (noise_key can no longer be
                      // given); before, WEIGHT_GIVEN: Connect gave a weight (then no rho)
  static constexpr uint8_t CONNECTED = 1, WEIGHT_GIVEN = 2;
  [[no_unique_address]] NumbersT numbers_; // gb_synapse: empty, no byte taken
};

/* The two NEST models (and their _hpc and _lbl variants, registered with them). */
template < typename targetidentifierT >
using gb_synapse = gb_connection< targetidentifierT, GBSharedNumbers >;
template < typename targetidentifierT >
using gb_synapse_per_connection = gb_connection< targetidentifierT, GBOwnNumbers >;

template < typename targetidentifierT, typename NumbersT >
constexpr nest::ConnectionModelProperties gb_connection< targetidentifierT, NumbersT >::properties;

template < typename targetidentifierT, typename NumbersT >
gb_connection< targetidentifierT, NumbersT >::gb_connection()
  : ConnectionBase()
  , rho_( 0.0 )
  , c_( 0.0 )
  , cpre_( 0.0 )
  , tlast_( 0.0 )
  , xres_( 1.0 )
  , tpre_( -1e9 )
  , ufac_( 0.0 ) // the first event releases U whatever this is: 0 makes it exact
  , read_step_( 0 )
  , key_( 0 )
  , n_pending_( 0 )
  , overflowed_( 0 )
  , connected_( 0 )
{
}

template < typename targetidentifierT, typename NumbersT >
const typename gb_connection< targetidentifierT, NumbersT >::CommonPropertiesType&
gb_connection< targetidentifierT, NumbersT >::common_properties_( nest::synindex syn_id )
{
  return static_cast< const CommonPropertiesType& >(
    nest::kernel().model_manager.get_connection_model( syn_id, 0 ).get_common_properties() );
}

template < typename targetidentifierT, typename NumbersT >
void
gb_connection< targetidentifierT, NumbersT >::check_connection( nest::Node& s,
  nest::Node& t,
  size_t receptor_type,
  const CommonPropertiesType& cp )
{
  ConnTestDummyNode dummy_target;
  ConnectionBase::check_connection_( dummy_target, s, t, receptor_type );
  // ask the source's model, not the node: a source on another MPI process is a proxy
  // node here, which reports itself on the grid whatever the model it stands for
  if ( s.is_off_grid() or nest::kernel().model_manager.get_node_model( s.get_model_id() )->is_off_grid() )
  {
    throw nest::IllegalConnection( "gb_synapse: the presynaptic neuron must spike on the time grid (precise "
                                   "spike timing models are not supported)" );
  }
  gb_synapse_model own;
  try
  {
    gb_check_delay( numbers_.model( cp, own ).D );
  }
  catch ( nest::BadProperty& err )
  {
    throw nest::IllegalConnection( err.what() );
  }
  // A synapse made after the start reads only the spikes to come (as Brian2's make_synapses).
  const nest::Time now = nest::kernel().simulation_manager.get_time();
  read_step_ = now.get_steps();
  tlast_ = now.get_ms() * 1e-3;
  // key_ holds the noise_key given at Connect (0 by default): multapses that are given
  // different ones draw independent noise
  uint64_t given = key_;
  uint64_t ids = ( static_cast< uint64_t >( s.get_node_id() ) << 32 ) ^ static_cast< uint64_t >( t.get_node_id() )
    ^ gb_splitmix64( &given );
  key_ = static_cast< uint32_t >( gb_splitmix64( &ids ) );
  connected_ = CONNECTED;
  gb_read_kernel_seed();
  t.register_stdp_connection( now.get_ms(), get_delay() );
}

template < typename targetidentifierT, typename NumbersT >
inline bool
gb_connection< targetidentifierT, NumbersT >::send( nest::Event& e, size_t tid, const CommonPropertiesType& cp )
{
  gb_synapse_model own;
  const gb_synapse_model* m = &numbers_.model( cp, own ); // gb_synapse: the model's, no copy
  const long step = e.get_stamp().get_steps();
  const double t_ms = e.get_stamp().get_ms();
  const double t = t_ms * 1e-3;
  nest::Node* target = get_target( tid );
  // postsynaptic spikes in (last update, t]
  std::deque< nest::histentry >::iterator post, finish;
  target->get_history( nest::Time( nest::Time::step( read_step_ ) ).get_ms(), t_ms, &post, &finish );

  // pending presynaptic spikes, then this one (several if the spike has multiplicity)
  long lag[ GB_NEST_PENDING + 8 ];
  int n = n_pending_;
  const long shift = step - read_step_;
  for ( int k = 0; k < n; ++k )
  {
    lag[ k ] = lag_[ k ] + shift;
  }
  const size_t multiplicity = static_cast< nest::SpikeEvent& >( e ).get_multiplicity();
  for ( size_t k = 0; k < multiplicity; ++k )
  {
    if ( n == GB_NEST_PENDING )
    {
      overflowed_ = 1; // a spike lost: rho is no longer exact
      break;
    }
    lag[ n++ ] = 0;
  }

  // the calcium arrival (s) of pending spike k
  const auto arrival = [ & ]( int k )
  { return nest::Time( nest::Time::step( step - lag[ k ] ) ).get_ms() * 1e-3 + m->D; };
  gb_synapse_state s = { rho_, c_, cpre_, tlast_, xres_, tpre_, ufac_, 0, 0 };
  gb_walker w;
  gb_walker_start( &w, &s, m, t, cp.seed(), key_ );
  int a = 0;
  for ( ;; )
  {
    double ta = a < n ? arrival( a ) : INFINITY;
    const double tb = post != finish ? post->t_ * 1e-3 : INFINITY;
    if ( ta > t )
    {
      ta = INFINITY; // arrives later: a later walk takes it
    }
    if ( ta == INFINITY && tb == INFINITY )
    {
      break;
    }
    const int is_pre = gb_pre_first( ta, tb );
    gb_walker_event( &w, is_pre ? ta : tb, is_pre, m );
    if ( is_pre )
    {
      ++a;
    }
    else
    {
      ++post;
    }
  }
  double rho = gb_walker_finish( &w, &s, t, m );
  if ( overflowed_ )
  {
    rho = NAN;
    s.rho = NAN;
  }
  rho_ = s.rho;
  c_ = s.c;
  cpre_ = s.cpre;
  tlast_ = s.tlast;
  xres_ = s.xres;
  tpre_ = s.tpre;
  ufac_ = s.ufac;
  n_pending_ = static_cast< uint8_t >( n - a );
  for ( int k = a; k < n; ++k )
  {
    lag_[ k - a ] = static_cast< uint16_t >( lag[ k ] );
  }
  read_step_ = step;

  double released = 1.0;
  if ( cp.release_scales_weight_ )
  {
    // the release of this spike (the last pending one), ahead of its calcium's arrival:
    // the pending spikes' releases from the kept state (the walk that applies them later
    // draws the same, keyed by their arrival times)
    double x = s.xres, u = s.ufac, tp = s.tpre;
    for ( int k = a; k < n; ++k )
    {
      released = gb_release_event( &x, &u, &tp, arrival( k ), m->stp_U, m->tau_rec, m->tau_fac, m->release_sites,
        cp.seed(), key_ );
    }
  }

  e.set_receiver( *target );
  e.set_weight( released * cp.weight( rho ) );
  e.set_delay_steps( get_delay_steps() );
  e.set_rport( get_rport() );
  e();
  return true;
}
/* The state at the last update (time, rho, c and its presynaptic part): the stored state,
 * advanced without noise where the walk kept the state after its last event
 * (deterministic synapses only). */
template < typename targetidentifierT, typename NumbersT >
typename gb_connection< targetidentifierT, NumbersT >::AtRead
gb_connection< targetidentifierT, NumbersT >::at_read_( const gb_synapse_model& m ) const
{
  const double t_ms = nest::Time( nest::Time::step( read_step_ ) ).get_ms();
  const double L = t_ms * 1e-3 > tlast_ ? t_ms * 1e-3 - tlast_ : 0.0;
  const double decay = std::exp( -L / m.p.tau_ca );
  const double rho = ( L == 0.0 || std::isnan( rho_ ) ) ? rho_ : gb_advance_rho( rho_, c_, L, &m.p, 0.0, 0.0 );
  return { t_ms, rho, c_ * decay, cpre_ * decay };
}

template < typename targetidentifierT, typename NumbersT >
void
gb_connection< targetidentifierT, NumbersT >::get_status( ::Dictionary& d ) const
{
  ConnectionBase::get_status( d );
  const CommonPropertiesType& cp = common_properties_( get_syn_id() );
  gb_synapse_model own;
  const AtRead now = at_read_( numbers_.model( cp, own ) );
  d[ "rho" ] = now.rho;
  d[ "c" ] = now.c;
  // the rest of the walk's state at t_last_update, for a read-out that walks on in Python
  // (brian2_calcium.nest.bring_up_to_date)
  d[ "cpre" ] = now.cpre;
  d[ "xres" ] = xres_;
  d[ "tpre" ] = tpre_ * 1e3;
  d[ "ufac" ] = ufac_;
  d[ nest::names::weight ] = cp.weight( now.rho );
  d[ "t_last_update" ] = now.t_ms;
  d[ "pending_spikes" ] = static_cast< long >( n_pending_ );
  d[ "overflowed" ] = static_cast< bool >( overflowed_ );
  // before Connect: the noise_key given; a connection: the key its noise uses (from the
  // noise_key given and the two node ids)
  d[ "noise_key" ] = static_cast< long >( key_ );
  d[ nest::names::size_of ] = static_cast< long >( sizeof( *this ) );
  // the numbers of the model this connection walks with (its own, or its model's)
  numbers_.get_status( d, cp );
}

template < typename targetidentifierT, typename NumbersT >
void
gb_connection< targetidentifierT, NumbersT >::set_status( const ::Dictionary& d, nest::ConnectorModel& cm )
{
  ConnectionBase::set_status( d, cm );
  const CommonPropertiesType& cp = static_cast< const CommonPropertiesType& >( cm.get_common_properties() );
  check_read_only_( d, cp );
  // rho, or the weight that spells it; both only when they agree (a GetStatus round trip)
  double rho = 0.0;
  double weight = 0.0;
  const bool rho_known = d.update_value( "rho", rho );
  const bool weight_known = d.update_value( nest::names::weight, weight );
  const double tolerance = 1e-12 * ( std::fabs( cp.weight( 0.0 ) ) + std::fabs( cp.weight( 1.0 ) ) );
  const bool weight_at_connect = rho_known and ( connected_ & WEIGHT_GIVEN );
  if ( ( rho_known and weight_known and not( std::fabs( cp.weight( rho ) - weight ) <= tolerance ) )
    or ( weight_at_connect and not( std::fabs( cp.weight( rho ) - cp.weight( rho_ ) ) <= tolerance ) ) )
  {
    throw nest::BadProperty(
      "gb_synapse: give rho or weight, not both (the weight is w0 + rho (w1 - w0); both only "
      "when they agree)" );
  }
  if ( weight_known and not rho_known )
  {
    rho = cp.rho_of_weight( weight );
  }
  const bool rho_given = rho_known or weight_known;
  if ( rho_given )
  {
    if ( not std::isfinite( rho ) )
    {
      throw nest::BadProperty( "gb_synapse: rho must be finite" );
    }
    // rho is the efficacy at the last update: the stored state moves there
    gb_synapse_model own;
    const AtRead now = at_read_( numbers_.model( cp, own ) );
    c_ = now.c;
    cpre_ = now.cpre;
    tlast_ = std::max( tlast_, now.t_ms * 1e-3 );
    rho_ = rho;
    overflowed_ = 0;
  }
  if ( connected_ & CONNECTED )
  {
    // new numbers act from the last update on: the stored state moves there first, with
    // the old ones
    gb_synapse_model own;
    const AtRead before = at_read_( numbers_.model( cp, own ) );
    if ( numbers_.set_status( d, cp, true ) )
    {
      rho_ = before.rho;
      c_ = before.c;
      cpre_ = before.cpre;
      tlast_ = std::max( tlast_, before.t_ms * 1e-3 );
    }
  }
  else
  {
    numbers_.set_status( d, cp, false );
  }
  long noise_key = 0;
  if ( d.update_integer_value( "noise_key", noise_key ) )
  {
    if ( connected_ & CONNECTED )
    {
      if ( noise_key != static_cast< long >( key_ ) )
      {
        throw nest::BadProperty( "gb_synapse: noise_key is given when connecting (nest.Connect), not later" );
      }
    }
    else if ( noise_key < 0 or noise_key > 4294967295L )
    {
      throw nest::BadProperty( "gb_synapse: noise_key must lie in [0, 2**32)" );
    }
    else
    {
      key_ = static_cast< uint32_t >( noise_key );
    }
  }
}

/* The state that GetStatus reports and only the synapse changes: accepted at its current
 * value (a round trip of GetStatus, as PyNN makes with a native type's defaults), refused
 * otherwise, before anything is set. */
template < typename targetidentifierT, typename NumbersT >
void
gb_connection< targetidentifierT, NumbersT >::check_read_only_( const ::Dictionary& d,
  const CommonPropertiesType& cp ) const
{
  gb_synapse_model own;
  const AtRead now = at_read_( numbers_.model( cp, own ) );
  const std::pair< const char*, double > current[] = {
    { "c", now.c }, { "cpre", now.cpre }, { "xres", xres_ }, { "tpre", tpre_ * 1e3 }, { "ufac", ufac_ },
    { "t_last_update", now.t_ms }
  };
  const auto refuse = []( const std::string& name )
  {
    throw nest::BadProperty( "gb_synapse: " + name
      + " is read-only (set rho, or the weight w0 + rho (w1 - w0) that spells it)" );
  };
  for ( const auto& [ name, value ] : current )
  {
    double given = value;
    if ( d.update_value( name, given ) and given != value )
    {
      refuse( name );
    }
  }
  long pending = n_pending_;
  if ( d.update_integer_value( "pending_spikes", pending ) and pending != n_pending_ )
  {
    refuse( "pending_spikes" );
  }
  bool overflowed = overflowed_;
  if ( d.update_value( "overflowed", overflowed ) and overflowed != static_cast< bool >( overflowed_ ) )
  {
    refuse( "overflowed" );
  }
}

} // namespace brian2_calcium

#endif
