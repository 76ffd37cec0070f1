/** Formats the inspector can tell apart. Anything it does not recognise is `raw`. */
export type ImageFormat = 'raw' | 'qcow2' | 'vmdk' | 'vhd' | 'vhdx' | 'vdi' | 'iso';

export interface InspectionResult {
  /** The most specific format whose signature and required header were seen; `raw` otherwise. */
  format: ImageFormat;
  /** Size of the disk the image describes, in bytes (for raw: the number of bytes read). */
  virtualSize: number;
  /** Number of bytes that went through the inspector. */
  actualSize: number;
  /** Why the image must not be used; empty when it passed every check. */
  safetyProblems: string[];
}
