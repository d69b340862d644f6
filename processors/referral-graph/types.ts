// The referral graph's public shape (design §5 "Referral graph"). Implemented in graph.ts;
// the k-factor, cohort, attribution, super-connector and fraud processors read it.
import type { Channel } from '../../core/events/types.ts';

export type EdgeStatus =
  | 'root' //          first sign-up named no referrer: depth 0
  | 'accepted' //      edge referrer -> user exists
  | 'pending' //       names a referrer (or an invitation) not known/signed up yet: the edge waits
  | 'self_referral' // referrer = user: edge rejected
  | 'cycle'; //        edge would close a cycle: rejected

export interface Invitation {
  app_id: string;
  invite_id: string;
  /** Sender (`user_id` of the earliest `invite_sent` event for this invite_id). */
  sender_id: string;
  sent_at: number;
  channel: Channel | '';
  variant: string;
  event_id: string;
}

export interface UserNode {
  app_id: string;
  user_id: string;
  /** The user's first sign-up: earliest occurred_at, ties broken by the smaller event_id. */
  signup_event_id: string;
  signup_at: number;
  /** invite_id of the first sign-up, '' if none. */
  invite_id: string;
  /** Resolved referrer: the invitation's sender when invite_id is known, else referrer_id; '' if none. */
  referrer_id: string;
  status: EdgeStatus;
  /** Null while pending or rejected-and-detached (a rejected edge leaves the user a root: depth 0). */
  depth: number | null;
  root_id: string | null;
}

export interface GraphChange {
  /** Users whose node (status, referrer, depth, root) changed or was touched by the batch. */
  users: Set<string>; // key: app_id + '\u0000' + user_id
  /** The same per app, with more detail (plain user ids / invite ids). */
  apps: Map<string, AppGraphChange>;
  /** All apps' self-referring sign-ups of the batch (see AppGraphChange.self_referrals). */
  self_referrals: SignupRef[];
}

export interface AppGraphChange {
  /**
   * Users whose node or subtree statistics changed, or whose own sign-up is in the batch; for a
   * duplicate first sign-up also its subtree and ancestors (what its first arrival changed).
   */
  users: Set<string>;
  /**
   * The subset whose chain of accepted ancestors may have changed (attribution moves their
   * revenue); for a duplicate first sign-up, its subtree.
   */
  moved: Set<string>;
  /** Invitations sent in the batch or named by a sign-up of the batch. */
  invites: Set<string>;
  /**
   * Sign-ups (first or later) whose resolved referrer is the user themself (design §5: "a later
   * sign-up naming the user as their own referrer still raises self_referral"). Reported when
   * the sign-up arrives, or when the invitation it names arrives; again for duplicates.
   */
  self_referrals: SignupRef[];
}

export interface SignupRef {
  app_id: string;
  user_id: string;
  event_id: string;
  occurred_at: number;
}

/** Subtree statistics of a node, over accepted edges (design §5, §7 chains route). */
export interface SubtreeStats {
  direct_referrals: number;
  descendants: number;
  /** Levels below the user: 0 for a leaf. */
  subtree_depth: number;
  /** Descendants exactly 2 or 3 levels below (design §5 super-connector indirect_referrals). */
  indirect_referrals: number;
}

/** A node as the graph answers it: the user's node plus subtree statistics. */
export type ReferralNode = UserNode & SubtreeStats;

export function userKey(appId: string, userId: string): string {
  return appId + '\u0000' + userId;
}
