import { logLevel } from 'kafkajs';
import { createLogger, kafkaLogCreator, REDACT_PATHS, toKafkaLogLevel } from '../../../services/platform';

/** A pino destination that keeps every line in memory. */
function memoryStream(): {
  write(line: string): void;
  lines: () => Record<string, unknown>[];
  raw: () => string;
} {
  const chunks: string[] = [];
  return {
    write: (line: string) => void chunks.push(line),
    lines: () => chunks.map((chunk) => JSON.parse(chunk) as Record<string, unknown>),
    raw: () => chunks.join(''),
  };
}

describe('createLogger', () => {
  it('writes JSON lines with the name, the bindings and the level', () => {
    const stream = memoryStream();
    const logger = createLogger({
      name: 'connector-tax',
      level: 'debug',
      destination: stream,
      bindings: { agency: 'tax' },
    });
    logger.debug({ batch: 3 }, 'Records accepted');
    logger.trace('Not written at debug');
    expect(stream.lines()).toEqual([
      expect.objectContaining({
        name: 'connector-tax',
        agency: 'tax',
        batch: 3,
        level: 20,
        msg: 'Records accepted',
      }),
    ]);
  });

  it('never writes a citizen id or a credential unredacted, at any of the covered depths', () => {
    const stream = memoryStream();
    const logger = createLogger({ name: 'lookup', destination: stream });
    const citizenId = '001099012345';
    logger.info(
      {
        citizenId,
        subject: { citizenId, ownerId: '001099054321' },
        dossier: { applicant: { citizenId, legalRepresentativeId: '079199000111' } },
        owners: [{ ownerId: '001099054321' }],
        taxpayer: { personalTaxCode: '8001234567', personalTaxDebt: 1_250_000 },
        req: { headers: { authorization: 'Bearer eyJhbGciOi.secret', 'x-api-key': 'k-123', cookie: 's=1' } },
      },
      'Lookup answered',
    );
    const raw = stream.raw();
    for (const secret of [
      '001099012345',
      '001099054321',
      '079199000111',
      '8001234567',
      '1250000',
      'eyJhbGciOi',
      'k-123',
      's=1',
    ]) {
      expect(raw).not.toContain(secret);
    }
    const [line] = stream.lines();
    expect(line).toMatchObject({
      citizenId: '[redacted]',
      subject: { citizenId: '[redacted]', ownerId: '[redacted]' },
      dossier: { applicant: { citizenId: '[redacted]', legalRepresentativeId: '[redacted]' } },
      owners: [{ ownerId: '[redacted]' }],
      req: { headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', cookie: '[redacted]' } },
    });
  });

  it('redacts the bindings of child loggers too', () => {
    const stream = memoryStream();
    const logger = createLogger({ name: 'sharing', destination: stream }).child({
      citizenId: '001099012345',
    });
    logger.warn('Late event ignored');
    expect(stream.raw()).not.toContain('001099012345');
  });

  it('covers each personal field at three depths', () => {
    for (const field of ['citizenId', 'applicantId', 'ownerId', 'legalRepresentativeId', 'personalTaxCode']) {
      expect(REDACT_PATHS).toEqual(expect.arrayContaining([field, `*.${field}`, `*.*.${field}`]));
    }
  });
});

describe('toKafkaLogLevel', () => {
  it.each([
    ['trace', logLevel.DEBUG],
    ['debug', logLevel.DEBUG],
    ['info', logLevel.INFO],
    ['warn', logLevel.WARN],
    ['error', logLevel.ERROR],
    ['fatal', logLevel.NOTHING],
    ['silent', logLevel.NOTHING],
  ])('maps pino %s to the kafkajs level that keeps the same records', (pinoLevel, kafkaLevel) => {
    expect(toKafkaLogLevel(pinoLevel)).toBe(kafkaLevel);
  });
});

describe('kafkaLogCreator', () => {
  it('writes kafkajs entries through pino with their namespace', () => {
    const stream = memoryStream();
    const log = kafkaLogCreator(createLogger({ name: 'connector', level: 'info', destination: stream }))(
      logLevel.INFO,
    );
    const entry = (level: logLevel, message: string) => ({
      namespace: 'Producer',
      level,
      label: 'X',
      log: { timestamp: '2026-01-01T00:00:00.000Z', message, broker: 'kafka-1:9092' },
    });
    log(entry(logLevel.ERROR, 'Failed to send'));
    log(entry(logLevel.WARN, 'Retrying'));
    log(entry(logLevel.INFO, 'Connected'));
    log(entry(logLevel.DEBUG, 'Request sent'));
    log(entry(logLevel.NOTHING, 'Never'));
    const lines = stream.lines();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [50, 'Failed to send'],
      [40, 'Retrying'],
      [30, 'Connected'],
    ]);
    expect(lines[0]).toMatchObject({ namespace: 'Producer', component: 'kafkajs', broker: 'kafka-1:9092' });
    expect(lines[0]).not.toHaveProperty('timestamp');
  });
});
