import pkg from '../../package.json';

/** The app version recorded in the provenance of every result. */
export const APP_VERSION: string = pkg.version;
export const RESEARCH_USE_NOTICE = 'Research use only. Not a medical device; not for diagnosis or treatment decisions.';
