import { type Answer, refusalKey } from './api';
import { type MessageKey, useMessages } from './i18n';

/** A refusal or failure in plain words: what to do, with the code only as a reference. */
export function Refusal({ answer }: { answer: Answer }) {
  const m = useMessages();
  return (
    <div class="refusal" role="alert">
      <strong>{m.t('refusal.title')}</strong>
      <p>{m.t(refusalKey(answer) as MessageKey)}</p>
      {answer.code && <p class="meta">{m.t('refusal.reference', { code: answer.code })}</p>}
    </div>
  );
}
