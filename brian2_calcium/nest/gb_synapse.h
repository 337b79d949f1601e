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
 * The transmitted weight is w0 + rho(t_pre) (w1 - w0).  Parameters of the model (a
 * published set) are common to all synapses of one NEST synapse model (CopyModel per
 * set); per synapse: rho, calcium, short-term resources and the pending spikes.
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
#include <limits>
#include <string>

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

/* The model parameters, common to every synapse of one NEST synapse model. */
class GBCommonProperties : public nest::CommonSynapseProperties
{
public:
  GBCommonProperties();
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

  gb_synapse_model model_; // SI units, parameters prepared
  double w0_, w1_;         // weights of rho = 0 and rho = 1 (the target's unit)
  long seed_;              // -1: NEST's rng_seed
  std::string set_name_;   // the parameter set, for GetDefaults
};

template < typename targetidentifierT >
class gb_synapse : public nest::Connection< targetidentifierT >
{
public:
  typedef GBCommonProperties CommonPropertiesType;
  typedef nest::Connection< targetidentifierT > ConnectionBase;

  static constexpr nest::ConnectionModelProperties properties = nest::ConnectionModelProperties::HAS_DELAY
    | nest::ConnectionModelProperties::IS_PRIMARY | nest::ConnectionModelProperties::SUPPORTS_HPC
    | nest::ConnectionModelProperties::SUPPORTS_LBL;

  gb_synapse();
  gb_synapse( const gb_synapse& ) = default;
  gb_synapse& operator=( const gb_synapse& ) = default;

  using ConnectionBase::get_delay;
  using ConnectionBase::get_delay_steps;
  using ConnectionBase::get_rport;
  using ConnectionBase::get_syn_id;
  using ConnectionBase::get_target;

  void get_status( ::Dictionary& d ) const;
  void set_status( const ::Dictionary& d, nest::ConnectorModel& cm );
  bool send( nest::Event& e, size_t tid, const GBCommonProperties& cp );

  void
  set_weight( double )
  {
    throw nest::BadProperty(
      "gb_synapse: the weight is w0 + rho (w1 - w0); set rho (and w0, w1 on the synapse model) instead" );
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
  static const GBCommonProperties& common_properties_( nest::synindex syn_id );
  struct AtRead
  {
    double t_ms, rho, c, cpre;
  };
  AtRead at_read_( const GBCommonProperties& cp ) const;

  // the state kept between walks (gb_synapse_state without the Brian2 counters)
  double rho_, c_, cpre_, tlast_, xres_, tpre_; // s
  long read_step_;                               // step of the last update (last presynaptic spike)
  uint32_t key_;                                 // noise key from the source and target node ids
  uint16_t lag_[ GB_NEST_PENDING ];              // pending spikes: steps before read_step_, oldest first
  uint8_t n_pending_;
  uint8_t overflowed_;
  uint8_t connected_; // check_connection has run: noise_key can no longer be given
};

template < typename targetidentifierT >
constexpr nest::ConnectionModelProperties gb_synapse< targetidentifierT >::properties;

template < typename targetidentifierT >
gb_synapse< targetidentifierT >::gb_synapse()
  : ConnectionBase()
  , rho_( 0.0 )
  , c_( 0.0 )
  , cpre_( 0.0 )
  , tlast_( 0.0 )
  , xres_( 1.0 )
  , tpre_( -1e9 )
  , read_step_( 0 )
  , key_( 0 )
  , n_pending_( 0 )
  , overflowed_( 0 )
  , connected_( 0 )
{
}

template < typename targetidentifierT >
const GBCommonProperties&
gb_synapse< targetidentifierT >::common_properties_( nest::synindex syn_id )
{
  return static_cast< const GBCommonProperties& >(
    nest::kernel().model_manager.get_connection_model( syn_id, 0 ).get_common_properties() );
}

template < typename targetidentifierT >
void
gb_synapse< targetidentifierT >::check_connection( nest::Node& s,
  nest::Node& t,
  size_t receptor_type,
  const CommonPropertiesType& cp )
{
  ConnTestDummyNode dummy_target;
  ConnectionBase::check_connection_( dummy_target, s, t, receptor_type );
  if ( s.is_off_grid() )
  {
    throw nest::IllegalConnection( "gb_synapse: the presynaptic neuron must spike on the time grid (precise "
                                   "spike timing models are not supported)" );
  }
  const double lag_limit = std::numeric_limits< uint16_t >::max() * nest::Time::get_resolution().get_ms();
  if ( cp.model_.D * 1e3 >= lag_limit )
  {
    throw nest::IllegalConnection( "gb_synapse: the calcium delay D must be shorter than 65535 time steps" );
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
  connected_ = 1;
  gb_read_kernel_seed();
  t.register_stdp_connection( now.get_ms(), get_delay() );
}

template < typename targetidentifierT >
inline bool
gb_synapse< targetidentifierT >::send( nest::Event& e, size_t tid, const GBCommonProperties& cp )
{
  const gb_synapse_model* m = &cp.model_;
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

  gb_synapse_state s = { rho_, c_, cpre_, tlast_, xres_, tpre_, 0, 0 };
  gb_walker w;
  gb_walker_start( &w, &s, m, t, cp.seed(), key_ );
  int a = 0;
  for ( ;; )
  {
    double ta = a < n ? nest::Time( nest::Time::step( step - lag[ a ] ) ).get_ms() * 1e-3 + m->D : INFINITY;
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
  n_pending_ = static_cast< uint8_t >( n - a );
  for ( int k = a; k < n; ++k )
  {
    lag_[ k - a ] = static_cast< uint16_t >( lag[ k ] );
  }
  read_step_ = step;

  e.set_receiver( *target );
  e.set_weight( cp.weight( rho ) );
  e.set_delay_steps( get_delay_steps() );
  e.set_rport( get_rport() );
  e();
  return true;
}

/* The state at the last update (time, rho, c and its presynaptic part): the stored state,
 * advanced without noise where the walk kept the state after its last event
 * (deterministic synapses only). */
template < typename targetidentifierT >
typename gb_synapse< targetidentifierT >::AtRead
gb_synapse< targetidentifierT >::at_read_( const GBCommonProperties& cp ) const
{
  const double t_ms = nest::Time( nest::Time::step( read_step_ ) ).get_ms();
  const double L = t_ms * 1e-3 > tlast_ ? t_ms * 1e-3 - tlast_ : 0.0;
  const double decay = std::exp( -L / cp.model_.p.tau_ca );
  const double rho = ( L == 0.0 || std::isnan( rho_ ) ) ? rho_ : gb_advance_rho( rho_, c_, L, &cp.model_.p, 0.0, 0.0 );
  return { t_ms, rho, c_ * decay, cpre_ * decay };
}

template < typename targetidentifierT >
void
gb_synapse< targetidentifierT >::get_status( ::Dictionary& d ) const
{
  ConnectionBase::get_status( d );
  const GBCommonProperties& cp = common_properties_( get_syn_id() );
  const AtRead now = at_read_( cp );
  d[ "rho" ] = now.rho;
  d[ "c" ] = now.c;
  // the rest of the walk's state at t_last_update, for a read-out that walks on in Python
  // (brian2_calcium.nest.bring_up_to_date)
  d[ "cpre" ] = now.cpre;
  d[ "xres" ] = xres_;
  d[ "tpre" ] = tpre_ * 1e3;
  d[ nest::names::weight ] = cp.weight( now.rho );
  d[ "t_last_update" ] = now.t_ms;
  d[ "pending_spikes" ] = static_cast< long >( n_pending_ );
  d[ "overflowed" ] = static_cast< bool >( overflowed_ );
  // before Connect: the noise_key given; a connection: the key its noise uses (from the
  // noise_key given and the two node ids)
  d[ "noise_key" ] = static_cast< long >( key_ );
  d[ nest::names::size_of ] = static_cast< long >( sizeof( *this ) );
}

template < typename targetidentifierT >
void
gb_synapse< targetidentifierT >::set_status( const ::Dictionary& d, nest::ConnectorModel& cm )
{
  ConnectionBase::set_status( d, cm );
  double rho = 0.0;
  if ( d.update_value( "rho", rho ) )
  {
    if ( not std::isfinite( rho ) )
    {
      throw nest::BadProperty( "gb_synapse: rho must be finite" );
    }
    // rho is the efficacy at the last update: the stored state moves there
    const GBCommonProperties& cp = static_cast< const GBCommonProperties& >( cm.get_common_properties() );
    const AtRead now = at_read_( cp );
    c_ = now.c;
    cpre_ = now.cpre;
    tlast_ = std::max( tlast_, now.t_ms * 1e-3 );
    rho_ = rho;
    overflowed_ = 0;
  }
  long noise_key = 0;
  if ( d.update_integer_value( "noise_key", noise_key ) )
  {
    if ( connected_ )
    {
      throw nest::BadProperty( "gb_synapse: noise_key is given when connecting (nest.Connect), not later" );
    }
    if ( noise_key < 0 or noise_key > 4294967295L )
    {
      throw nest::BadProperty( "gb_synapse: noise_key must lie in [0, 2**32)" );
    }
    key_ = static_cast< uint32_t >( noise_key );
  }
  for ( const char* name : { "c", "cpre", "xres", "tpre", "t_last_update", "pending_spikes", "overflowed", "weight" } )
  {
    if ( d.known( name ) )
    {
      throw nest::BadProperty( std::string( "gb_synapse: " ) + name
        + " is read-only (set rho; the weight follows from it and the model's w0, w1)" );
    }
  }
}

} // namespace brian2_calcium

#endif
