// Event builders for the tests of this folder (conventions §5: tables plus builders).
import { emptyEvent, type ViralEvent } from '../../core/events/types.ts';

let seq = 0;
/** A fresh event id; ids sort in creation order within a test. */
export function nextId(): string {
  seq++;
  return 'e' + String(seq).padStart(8, '0');
}

export function makeEvent(p: Partial<ViralEvent> & Pick<ViralEvent, 'type' | 'user_id' | 'occurred_at'>): ViralEvent {
  return { ...emptyEvent(), app_id: 'app', event_id: nextId(), ...p };
}

export function signup(user: string, at: number, p: { invite?: string; ref?: string; id?: string; app?: string } = {}): ViralEvent {
  return makeEvent({
    type: 'signup',
    user_id: user,
    occurred_at: at,
    invite_id: p.invite ?? '',
    referrer_id: p.ref ?? '',
    ...(p.id ? { event_id: p.id } : {}),
    ...(p.app ? { app_id: p.app } : {}),
  });
}

export function invite(sender: string, inviteId: string, at: number, p: { id?: string; app?: string } = {}): ViralEvent {
  return makeEvent({
    type: 'invite_sent',
    user_id: sender,
    occurred_at: at,
    invite_id: inviteId,
    channel: 'email',
    ...(p.id ? { event_id: p.id } : {}),
    ...(p.app ? { app_id: p.app } : {}),
  });
}

export function purchase(user: string, order: string, amount: number, currency: string, at: number, p: { id?: string; app?: string } = {}): ViralEvent {
  return makeEvent({
    type: 'purchase',
    user_id: user,
    occurred_at: at,
    order_id: order,
    amount,
    currency,
    ...(p.id ? { event_id: p.id } : {}),
    ...(p.app ? { app_id: p.app } : {}),
  });
}

export function refund(user: string, order: string, amount: number, currency: string, at: number, p: { id?: string; app?: string } = {}): ViralEvent {
  return { ...purchase(user, order, amount, currency, at, p), type: 'refund' };
}
