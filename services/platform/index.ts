export * from './config';
export * from './errors';
export * from './kafka';
export * from './lifecycle';
export * from './logger';
export * from './mongo';
export * from './telemetry';
export * from './telemetry-handle';
