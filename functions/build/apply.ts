// The build step's effects: read the import policy, import, mark. Import first and mark after: a crash or a lost
// answer in between only means the next delivery imports the same digest again, which changes nothing (the tag's
// head already is that image), whereas marking first could lose an import for good.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import { notConfigured, type SyncError } from '../../shared/errors.js';
import { listDecoded, type KubeClient, type KubeEnv } from '../../shared/kube/client.js';
import { Resources } from '../../shared/kube/resources.js';
import type { LogEnv } from '../../shared/log.js';
import type { StepResult } from '../../shared/runtime/handler.js';
import { decodeQuayIntegration, resolveSettings } from '../../shared/settings/quay-integration.js';
import {
  imageStreamImport,
  importOutcome,
  markImported,
  type ImportPlan,
  type ImportSettings,
} from './plan.js';

export interface BuildEnv extends KubeEnv, LogEnv {}

/**
 * The QuayIntegration's import policy. The QuayIntegration alone: this step never calls Quay, so it neither reads
 * nor may read the token (shared/settings/load.ts would, to validate it).
 */
export const readImportSettings = (kube: KubeClient): TE.TaskEither<SyncError, ImportSettings> =>
  pipe(
    listDecoded(kube, t.unknown, Resources.QuayIntegration),
    TE.mapLeft((e): SyncError => e),
    TE.flatMapEither((items): E.Either<SyncError, ImportSettings> => {
      const [only] = items;
      if (only === undefined) return E.left(notConfigured('NoQuayIntegration', 'no QuayIntegration exists'));
      if (items.length > 1)
        return E.left(
          notConfigured(
            'SeveralQuayIntegrations',
            `${items.length} QuayIntegrations exist; exactly one is supported`,
          ),
        );
      return pipe(
        decodeQuayIntegration(only),
        E.flatMap(resolveSettings),
        E.mapLeft((invalid) => notConfigured('InvalidSpec', invalid.message)),
      );
    }),
  );

export const applyImport =
  (p: ImportPlan): RTE.ReaderTaskEither<BuildEnv, SyncError, StepResult> =>
  ({ kube }) =>
    pipe(
      readImportSettings(kube),
      TE.flatMap((settings) =>
        pipe(
          kube.create(Resources.ImageStreamImport, p.destination.namespace, imageStreamImport(p, settings)),
          TE.mapLeft((e): SyncError => e),
        ),
      ),
      TE.flatMapEither((answer) => importOutcome(p, answer)),
      TE.flatMap(({ image }) =>
        pipe(
          kube.patch(
            { type: Resources.Build, namespace: p.build.namespace, name: p.build.name },
            { type: 'merge', body: markImported(p) },
          ),
          TE.mapLeft((e): SyncError => e),
          TE.map((): StepResult => ({
            outcome: 'updated',
            reason: `imported into ImageStreamTag ${p.destination.namespace}/${p.destination.imageStream}:${p.destination.tag}`,
            details: { image },
          })),
        ),
      ),
    );
