// Evenly spaced fixed-rate load with autocannon (used by cannon-worker.ts).
/** autocannon 9's client fields the pacing below drives (lib/httpClient.js). */
interface AutocannonClient {
  rate: number;
  reqsMadeThisSecond: number;
  paused: boolean;
  destroyed: boolean;
  rateInterval: NodeJS.Timeout;
  cer: unknown;
  conn?: unknown;
  timeout: number;
  timeoutTicker: { reschedule: (ms: number) => void };
  _doRequest: (cer?: unknown) => void;
  _connect: () => void;
  _destroyConnection: () => void;
}

/**
 * Evenly spaced arrivals for a fixed-rate spec. autocannon's own fixed rate is a per-second budget
 * per connection, sent back to back when each second starts (so 500 req/s over 16 connections is
 * a burst of 16 concurrent requests every second), and it lowers `connections` to the rate when
 * the rate is smaller (12,500 connections at 2,500 req/s silently became 2,500). Here every
 * connection sends one request per `connections / rate` seconds, client i starting at i / rate s:
 * all connections are used and the requests arrive 1 / rate s apart. A client also opens its
 * connection at its phase, so the connections ramp up over the first interval instead of all
 * arriving in the same few milliseconds. A connection still waits for its previous answer (as
 * autocannon does), so a stalled server shows as a lower achieved rate.
 *
 * With `openFirstMs`, the connections open evenly over that long first and the requests start
 * after it (client i connects at i × openFirstMs / connections): the run then measures clients
 * that are already connected, not the connection storm.
 */
export function pacedClients(connections: number, rate: number, timeoutSeconds = 10, openFirstMs = 0): { connectionRate: number; setupClient: (client: unknown) => void } {
  const intervalMs = (1000 * connections) / rate;
  // autocannon times a connection out after `timeout` s without a request written.
  if (intervalMs >= timeoutSeconds * 1000) throw new Error(`paced load: ${connections} connections at ${rate} req/s post every ${intervalMs / 1000} s, past autocannon's ${timeoutSeconds} s timeout`);
  // A client waits at most max(openFirstMs, intervalMs) between its connect and its first request.
  if (openFirstMs >= timeoutSeconds * 1000) throw new Error(`paced load: opening the connections over ${openFirstMs / 1000} s is past autocannon's ${timeoutSeconds} s timeout`);
  let n = 0;
  return {
    // A budget of one request per tick; the ticks are re-timed below.
    connectionRate: 1,
    setupClient: (c) => {
      const client = c as AutocannonClient;
      if (typeof client._doRequest !== 'function' || typeof client.reqsMadeThisSecond !== 'number') {
        throw new Error('paced load needs autocannon 9 client internals (_doRequest, reqsMadeThisSecond, rateInterval): check the autocannon version');
      }
      const i = n++;
      const phaseMs = (i * 1000) / rate;
      const connectMs = openFirstMs > 0 ? (i * openFirstMs) / connections : phaseMs;
      const firstTickMs = openFirstMs + phaseMs;
      // Hold the request autocannon sends on connect until this client's phase.
      client.reqsMadeThisSecond = client.rate;
      // Connect at the phase too (the constructor calls _connect right after setupClient).
      const connect = client._connect;
      const destroyConnection = client._destroyConnection;
      client._destroyConnection = () => client.conn !== undefined && destroyConnection.call(client);
      client._connect = () => {
        client._connect = connect;
        setTimeout(() => {
          if (client.destroyed) return;
          // autocannon's timeout counts from the last request written; none has been yet.
          client.timeoutTicker.reschedule(client.timeout);
          connect.call(client);
        }, connectMs);
      };
      // setupClient runs inside the constructor, before autocannon starts its 1 s budget interval.
      setImmediate(() => {
        clearInterval(client.rateInterval);
        const tick = () => {
          if (client.destroyed) return clearInterval(client.rateInterval);
          client.reqsMadeThisSecond = 0;
          if (client.paused) {
            client.paused = false;
            client._doRequest(client.cer);
          }
        };
        client.rateInterval = setTimeout(() => {
          client.timeoutTicker.reschedule(client.timeout);
          client.rateInterval = setInterval(tick, intervalMs);
          tick();
        }, firstTickMs);
      });
    },
  };
}
