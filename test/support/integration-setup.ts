// The real stack is slow to answer next to a unit test: broker restarts and consumer group joins take seconds.
jest.setTimeout(120_000);
