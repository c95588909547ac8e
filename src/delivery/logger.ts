/**
 * What the delivery engine needs from a logger: pino's shape, so the server passes its own.
 */
export interface DeliveryLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const nothing = () => {};
export const silentLogger: DeliveryLogger = { debug: nothing, info: nothing, warn: nothing, error: nothing };
