import { Icon, type IconProps } from '../components/icons';

/** Two overlapping distributions: the sidebar's Drift entry. */
export const DriftIcon = (p: IconProps) => (
  <Icon {...p}>
    <path d="M3 19c3 0 4-12 7-12s4 12 7 12" />
    <path d="M8 19c3 0 4-9 7-9s4 9 6 9" />
  </Icon>
);

/** A split path: the sidebar's A/B tests entry. */
export const SplitIcon = (p: IconProps) => (
  <Icon {...p}>
    <path d="M12 21v-7l-6-6M12 14l6-6" />
    <path d="M4 4h5v5M20 4h-5v5" />
  </Icon>
);
