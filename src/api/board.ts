import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Router } from 'express';
import type { QueueName } from '../queues/names.js';
import type { Producer } from '../queues/producer.js';

export const BOARD_PATH = '/admin/queues';

/** A Bull Board over every queue; read-only boards hide and refuse every write action. */
export function bullBoard(producer: Producer, queues: readonly QueueName[], readOnlyMode: boolean): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(producer.queue(queue), { readOnlyMode })),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: readOnlyMode ? 'tickforge (read-only)' : 'tickforge',
      },
    },
  });
  return serverAdapter.getRouter() as Router;
}
