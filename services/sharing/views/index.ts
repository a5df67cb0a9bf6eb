export { citizensProjection } from './citizens';
export { dossiersProjection } from './dossiers';
export { enterprisesProjection } from './enterprises';
export { vehiclesProjection } from './vehicles';
