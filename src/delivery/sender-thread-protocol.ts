/** The messages between the dispatcher and its sender thread (sender-thread.ts). */
import type { AddressPolicyOptions } from '../security/address-policy.ts';
import type { SendResult } from './sender.ts';

export interface SenderThreadData {
  policy: AddressPolicyOptions;
  /** Sockets per origin (as the in-process agent: as many as requests the dispatcher can have out). */
  connections: number;
  keepAliveTimeoutMs: number;
}

/** One request, as a tuple: [id, url, headers, body, connectTimeoutMs, totalTimeoutMs, maxExcerptBytes]. */
export type WireSend = [
  number,
  string,
  Record<string, string>,
  string | Buffer,
  number | null,
  number,
  number | undefined,
];

export interface ToSender {
  sends: WireSend[];
  cancels: number[];
  close?: true;
}

export interface FromSender {
  ready?: true;
  closed?: true;
  results?: Array<[number, SendResult]>;
}
