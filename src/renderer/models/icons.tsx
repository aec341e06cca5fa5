import { Icon, type IconProps } from '../components/icons';

/** A cube: the sidebar's Models entry. */
export const ModelsIcon = (p: IconProps) => (
  <Icon {...p}>
    <path d="M12 3 20 7.5v9L12 21l-8-4.5v-9Z" />
    <path d="m4 7.5 8 4.5 8-4.5M12 12v9" />
  </Icon>
);
