import {
  type Projection,
  type SourcedEvent,
  type ViewDoc,
  type ViewReader,
} from '../../../../services/sharing/projection';
import { readerOf } from '../memory-view-store';

/**
 * `given` events folded through one projection for one document, the way the materializer applies
 * them: each from the document the previous one left.
 */
export function given(
  projection: Projection,
  id: string,
  events: readonly SourcedEvent[],
  read: ViewReader = readerOf(),
): ViewDoc | null {
  return events.reduce<ViewDoc | null>((doc, event) => projection.evolve(doc, event, id, read), null);
}
