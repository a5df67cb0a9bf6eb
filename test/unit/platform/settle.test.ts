import { settleAll } from '../../../services/platform/settle';

describe('settleAll', () => {
  it('answers every value in order', async () => {
    await expect(settleAll([Promise.resolve(1), Promise.resolve(2)])).resolves.toEqual([1, 2]);
  });

  it('rejects with the first failure only once every other has ended', async () => {
    let slowEnded = false;
    const slow = new Promise<number>((resolve) =>
      setTimeout(() => {
        slowEnded = true;
        resolve(2);
      }, 50),
    );
    const failure = new Error('first');
    await expect(
      settleAll([Promise.reject(failure), slow, Promise.reject(new Error('second'))]),
    ).rejects.toBe(failure);
    expect(slowEnded).toBe(true);
  });
});
