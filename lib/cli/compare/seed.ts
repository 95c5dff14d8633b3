// The seed's comparison table: the word it gives each model on each axis. The measured table puts
// these next to the figures and says whether the figures bear them out. Edit the words here only.
import type { Model } from './column';

export type Axis =
  | 'communication'
  | 'dataAccess'
  | 'synchronisation'
  | 'performance'
  | 'scalability'
  | 'syncOverhead'
  | 'faultTolerance'
  | 'security'
  | 'complexity';

export const axisTitle: Record<Axis, string> = {
  communication: 'communication',
  dataAccess: 'data access',
  synchronisation: 'synchronisation',
  performance: 'performance',
  scalability: 'scalability',
  syncOverhead: 'synchronisation overhead',
  faultTolerance: 'fault tolerance',
  security: 'security',
  complexity: 'programming complexity',
};

export const seedWords: Record<Axis, Record<Model, string>> = {
  communication: { 'shared memory': 'Implicit', 'message passing': 'Explicit' },
  dataAccess: { 'shared memory': 'Direct', 'message passing': 'Copied' },
  synchronisation: { 'shared memory': 'Explicit', 'message passing': 'Implicit' },
  performance: { 'shared memory': 'High', 'message passing': 'Low' },
  scalability: { 'shared memory': 'Low', 'message passing': 'High' },
  syncOverhead: { 'shared memory': 'High', 'message passing': 'Low' },
  faultTolerance: { 'shared memory': 'Low', 'message passing': 'High' },
  security: { 'shared memory': 'Low', 'message passing': 'High' },
  complexity: { 'shared memory': 'High', 'message passing': 'Low' },
};
