export type { ImageFormat, InspectionResult } from './types.js';
export { ImageInspector, InspectingStream, inspectStream, inspectChunks } from './inspector.js';
export { checkDiskFormat, ImageFormatMismatch, UnsafeImage, ACCEPTED_FORMATS } from './check.js';
