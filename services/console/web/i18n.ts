import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { type Messages, messages } from './messages';

export { type Lang, type MessageKey, type Messages, messages } from './messages';

export const MessagesContext = createContext<Messages>(messages('vi'));

export function useMessages(): Messages {
  return useContext(MessagesContext);
}
